//! Error cases of the BER model codec: what cannot be encoded gives the documented EncodeError
//! (what, where, code 500); bad or unsupported BER gives a BinDecodeError (400 / 501); random
//! and mutated octets never panic, and whatever decodes re-encodes to the same model.

mod ber_support;
mod common;

use common::Rng;

use ber_support::corpus_codec;
use common::corpus_files;
use iq_codec::binary::{
    asn, decode_ber, encode_ber, BinaryCodec, EncodeError, TermIdMapping, TermIdRule,
};
use iq_codec::model::*;
use iq_codec::packages::Registry;

fn text(s: &str) -> Message {
    iq_codec::text::decode(s.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{s}"))
}

fn enc_err(codec: &BinaryCodec, s: &str) -> EncodeError {
    match codec.encode(&text(s)) {
        Ok(b) => panic!("encoded {s}: {b:02x?}"),
        Err(e) => e,
    }
}

const HDR: &str = "MEGACO/3 [192.0.2.1]:2944\n";

#[test]
fn unmappable_elements_name_what_and_where() {
    let c = BinaryCodec::default();
    // A termination ID no rule expresses.
    let e = enc_err(
        &c,
        &format!("{HDR}Transaction = 7 {{ Context = 1 {{ Add = tdm/1 }} }}"),
    );
    assert_eq!(e.code, 500);
    assert_eq!(e.item, "termination ID 'tdm/1'");
    assert_eq!(e.transaction_id, Some(7));
    assert!(
        e.path
            .starts_with("Transaction 7 / Context 1 / command 1 (Add)"),
        "{e}"
    );
    assert!(e.to_string().contains("(error 500)"), "{e}");
    // A property of a package not in the table, deep inside.
    let e = enc_err(
        &c,
        &format!(
            "{HDR}Transaction = 8 {{ Context = 1 {{ Modify = ip/acc/t1 {{ Media {{ Stream = 2 {{ \
             LocalControl {{ foo/bar = 1 }} }} }} }} }} }}"
        ),
    );
    assert_eq!(e.item, "property 'foo/bar'");
    assert_eq!(
        e.path,
        "Transaction 8 / Context 1 / command 1 (Modify) / Media / Stream 2 / LocalControl"
    );
    // An event parameter the table does not know (and not iXXXX).
    let e = enc_err(
        &c,
        &format!(
            "{HDR}Transaction = 9 {{ Context = 1 {{ Modify = ip/acc/t1 {{ Events = 1 {{ \
             g/cause {{ nosuch = 1 }} }} }} }} }}"
        ),
    );
    assert_eq!(e.item, "parameter 'nosuch' of event 'g/cause'");
    // ... while the pXXXX / iXXXX forms always encode.
    let m = text(&format!(
        "{HDR}Transaction = 9 {{ Context = 1 {{ Modify = ip/acc/t1 {{ Events = 1 {{ \
         p8f02/i0007 {{ i0003 = 1 }}, g/cause {{ i0009 = x }} }} }} }} }}"
    ));
    assert_eq!(c.decode(&c.encode(&m).unwrap()).unwrap(), m);
    // A digit map name that is not dialplanDD.
    let e = enc_err(
        &c,
        &format!(
            "{HDR}Transaction = 9 {{ Context = 1 {{ Modify = ip/acc/t1 {{ DigitMap = dp2 }} }} }}"
        ),
    );
    assert_eq!(e.item, "digit map name 'dp2'");
    // An extension ServiceChange method.
    let e = enc_err(
        &c,
        &format!(
            "{HDR}Transaction = 9 {{ Context = - {{ ServiceChange = ROOT {{ Services {{ \
             Method = X-foo, Reason = 901 }} }} }} }}"
        ),
    );
    assert_eq!(e.item, "ServiceChange method 'x-foo'");
    // Non-ASCII where ASN.1 has an IA5String.
    let e = enc_err(
        &c,
        &format!("{HDR}Reply = 9 {{ Error = 400 {{ \"caf\u{e9}\" }} }}"),
    );
    assert!(e.item.starts_with("error text"), "{e}");
    // A mid-path wildcard in a rule-mapped ID.
    let e = enc_err(
        &corpus_codec(),
        &format!("{HDR}Transaction = 9 {{ Context = 1 {{ Subtract = tdm/*/3 }} }}"),
    );
    assert_eq!(e.item, "termination ID 'tdm/*/3'");
}

#[test]
fn model_only_shapes_are_encode_errors() {
    let c = BinaryCodec::default();
    let mut inner = RequestedEvent::new("al/on");
    inner.embed_events = Some(Box::new(EventsDescriptor {
        request_id: Some(3),
        events: vec![RequestedEvent::new("al/of")],
    }));
    let mut outer = RequestedEvent::new("al/of");
    outer.embed_events = Some(Box::new(EventsDescriptor {
        request_id: Some(2),
        events: vec![inner],
    }));
    let m = Message {
        auth: None,
        version: 3,
        mid: MId::Device("mg1".into()),
        body: MessageBody::Transactions(
            [Transaction::Request(TransactionRequest {
                id: 1,
                actions: vec![ActionRequest {
                    context: ContextId::Id(1),
                    context_request: None,
                    context_audit: None,
                    commands: vec![CommandRequest {
                        command: Command::Modify(AmmRequest {
                            termination_ids: [TerminationId::new("ip/acc/t1")].into(),
                            descriptors: vec![AmmDescriptor::Events(EventsDescriptor {
                                request_id: Some(1),
                                events: vec![outer],
                            })],
                        }),
                        optional: false,
                        wildcard_return: false,
                    }],
                }],
            })]
            .into(),
        ),
    };
    let e = c.encode(&m).unwrap_err();
    assert_eq!(e.item, "Embed Events");
    assert!(e.path.contains("Embed Events / event 'al/on'"), "{e}");
}

#[test]
fn termination_id_configuration() {
    let m = TermIdMapping::new(vec![8, 8], vec![TermIdRule::new("line/", &[0xaa], 3)]).unwrap();
    let c = BinaryCodec::default().with_term_ids(m);
    let msg = text(&format!(
        "{HDR}Transaction = 1 {{ Context = 1 {{ Add = line/77, Add = line/$, Add = 00000001/1* }} }}"
    ));
    let ber = c.encode(&msg).unwrap();
    assert_eq!(c.decode(&ber).unwrap(), msg);
    let raw = decode_ber(&ber).unwrap();
    let asn::MessageBody::Transactions(ts) = &raw.mess.message_body else {
        panic!()
    };
    let asn::Transaction::TransactionRequest(r) = &ts[0] else {
        panic!()
    };
    let ids: Vec<(Vec<u8>, Vec<u8>)> = r.actions[0]
        .command_requests
        .iter()
        .map(|c| {
            let asn::Command::AddReq(a) = &c.command else {
                panic!()
            };
            let t = &a.termination_id[0];
            (t.wildcard.iter().map(|w| w[0]).collect(), t.id.to_vec())
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            (vec![], vec![0xaa, 0, 0, 77]),
            (vec![0x17], vec![0xaa, 0, 0, 0]),
            (vec![0x86], vec![0x01, 0x80]),
        ]
    );
    // The default mapping cannot express line/77: EncodeError; megaco's digits with the
    // default levels are 3 octets.
    assert!(BinaryCodec::default().encode(&msg).is_err());
}

#[test]
fn bad_ber_is_400_and_unsupported_ber_is_501() {
    let c = BinaryCodec::default();
    let e = c.decode(&[0x30, 0x03, 0x02, 0x01]).unwrap_err();
    assert_eq!(e.code, 400);
    let good = c
        .encode(&text(&format!(
            "{HDR}Transaction = 5 {{ Context = 1 {{ Modify = ip/acc/t1 {{ Media {{ \
             TerminationState {{ g/i0001 = \"ok\" }} }} }} }} }}"
        )))
        .unwrap();
    let mut trailing = good.clone();
    trailing.push(0);
    assert_eq!(c.decode(&trailing).unwrap_err().code, 400);
    // Non-UTF-8 octets in a property value: valid BER the model cannot carry.
    let i = good.windows(2).position(|w| w == b"ok").unwrap();
    let mut bad = good.clone();
    bad[i] = 0xff;
    let e = c.decode(&bad).unwrap_err();
    assert_eq!(e.code, 501, "{e}");
    assert_eq!(e.transaction_id, Some(5));
    assert!(e.path.contains("TerminationState"), "{e}");
    assert!(e.reason.contains("ff6b"), "{e}");
    // streamID in an IndAudEventsDescriptor: 501.
    let m = text(&format!(
        "{HDR}Transaction = 6 {{ Context = 1 {{ AuditValue = ip/acc/t1 {{ Audit {{ Events = 3 {{ al/on }} }} }} }} }}"
    ));
    let mut raw = c.to_asn(&m).unwrap();
    let asn::MessageBody::Transactions(ts) = &mut raw.mess.message_body else {
        panic!()
    };
    let asn::Transaction::TransactionRequest(r) = &mut ts[0] else {
        panic!()
    };
    let asn::Command::AuditValueRequest(a) = &mut r.actions[0].command_requests[0].command else {
        panic!()
    };
    let asn::IndAuditParameter::IndaudeventsDescriptor(ev) =
        &mut a.audit_descriptor.audit_property_token.as_mut().unwrap()[0]
    else {
        panic!()
    };
    ev.stream_id = Some(2);
    let e = c.decode(&encode_ber(&raw)).unwrap_err();
    assert_eq!(e.code, 501, "{e}");
    assert_eq!(e.transaction_id, Some(6));
    // A profile that is not name/version: 400.
    let m = text(&format!(
        "{HDR}Transaction = 6 {{ Context = - {{ ServiceChange = ROOT {{ Services {{ Method = Restart, Profile = resgw/1 }} }} }} }}"
    ));
    let ber = c.encode(&m).unwrap();
    let i = ber.windows(7).position(|w| w == b"resgw/1").unwrap();
    let mut bad = ber.clone();
    bad[i + 5] = b'-';
    assert_eq!(c.decode(&bad).unwrap_err().code, 400);
}

#[test]
fn registry_profiles_change_the_ids() {
    let reg =
        Registry::with_profile("[[package]]\nmatch = \"xdtls\"\nname = \"vdtls\"\nid = 0xfe10\n")
            .unwrap();
    let c = BinaryCodec::default().with_registry(reg);
    let m = text(&format!(
        "{HDR}Transaction = 1 {{ Context = 1 {{ Modify = ip/acc/t1 {{ Signals {{ vdtls/estab }} }} }} }}"
    ));
    let ber = c.encode(&m).unwrap();
    assert!(ber.windows(4).any(|w| w == [0xfe, 0x10, 0x00, 0x01]));
    assert_eq!(c.decode(&ber).unwrap(), m);
    // The default table names the same octets by their hex form.
    let d = BinaryCodec::default().decode(&ber).unwrap();
    assert!(serde_json::to_string(&d).unwrap().contains("pfe10/i0001"));
}

#[test]
fn random_and_mutated_octets_never_panic() {
    let c = corpus_codec();
    let seeds: Vec<Vec<u8>> = corpus_files()
        .iter()
        .filter_map(|f| iq_codec::text::decode(&std::fs::read(f).unwrap()).ok())
        .filter_map(|m| c.encode(&m).ok())
        .collect();
    assert!(seeds.len() > 150);
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let (mut decoded, mut failures) = (0, Vec::new());
    let mut check = |b: &[u8]| {
        if let Ok(m) = c.decode(b) {
            decoded += 1;
            match c.encode(&m) {
                Ok(re) => {
                    if c.decode(&re).as_ref() != Ok(&m) {
                        failures.push(format!("{b:02x?}: re-encoding decodes differently"));
                    }
                }
                Err(e) => failures.push(format!("{b:02x?}: decoded model does not encode: {e}")),
            }
        }
    };
    for _ in 0..5_000 {
        let len = rng.below(80);
        let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if !b.is_empty() {
            b[0] = 0x30;
        }
        check(&b);
    }
    for _ in 0..30_000 {
        let mut b = seeds[rng.below(seeds.len())].clone();
        for _ in 0..=rng.below(3) {
            match rng.below(4) {
                0 => {
                    let i = rng.below(b.len());
                    b[i] = rng.next() as u8;
                }
                1 => {
                    let i = rng.below(b.len());
                    b[i] ^= 1 << rng.below(8);
                }
                2 => b.truncate(rng.below(b.len() + 1)),
                _ => {
                    let i = rng.below(b.len() + 1);
                    b.insert(i, rng.next() as u8);
                }
            }
            if b.is_empty() {
                break;
            }
        }
        check(&b);
    }
    eprintln!(
        "35 000 random/mutated inputs: {decoded} decoded, {} failures",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{}",
        failures[..failures.len().min(10)].join("\n")
    );
    assert!(decoded > 1_000, "{decoded}");
}
