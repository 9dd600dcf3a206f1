//! Malformed input: typed errors that name the place and the H.248 code to answer with.

use iq_codec::text::decode;

fn err(input: &str) -> iq_codec::DecodeError {
    match decode(input.as_bytes()) {
        Ok(m) => panic!("decoded malformed input {input:?} to {m:?}"),
        Err(e) => e,
    }
}

#[test]
fn empty_input_is_a_syntax_error_at_1_1() {
    let e = err("");
    assert_eq!((e.line, e.column, e.code), (1, 1, 400));
}

#[test]
fn unsupported_version_answers_406() {
    let e = err("MEGACO/4 [192.0.2.1]:2944\nT=1{C=-{AV=ROOT}}");
    assert_eq!((e.line, e.column, e.code), (1, 1, 406));
    assert!(e.reason.contains("version 4"), "{e}");
}

#[test]
fn missing_brace_names_line_and_column() {
    let e = err(
        "MEGACO/3 [192.0.2.1]:2944\nTransaction = 7 {\n  Context = 1 {\n    Modify = t1\n  }\n",
    );
    assert_eq!(e.line, 6, "{e}");
    assert_eq!(e.code, 403, "inside a transaction request: {e}");
    assert_eq!(e.transaction_id, Some(7));
}

#[test]
fn unknown_command_in_a_request_answers_443_with_the_transaction() {
    let e = err("MEGACO/3 [192.0.2.1]:2944\nTransaction = 9 { Context = 1 { Frobnicate = t1 } }");
    assert_eq!(
        (e.line, e.column, e.code, e.transaction_id),
        (2, 33, 443, Some(9)),
        "{e}"
    );
}

#[test]
fn unknown_descriptor_answers_444() {
    let e = err("!/3 [192.0.2.1]:2944\nT=9{C=1{MF=t1{Bogus{}}}}");
    assert_eq!((e.code, e.transaction_id), (444, Some(9)), "{e}");
}

#[test]
fn bad_reply_is_a_message_syntax_error() {
    let e = err("!/3 [192.0.2.1]:2944\nP=9{C=1{MF=t1{M{ST=1{L{v=0}}}}");
    assert_eq!(e.code, 400, "{e}");
    assert_eq!(e.transaction_id, None);
}

#[test]
fn numbers_out_of_range_are_rejected() {
    let e = err("!/3 [192.0.2.1]:2944\nT=4294967296{C=1{MF=t1}}");
    assert_eq!((e.line, e.column, e.code), (2, 3, 400), "{e}");
    let e = err("!/3 [192.0.2.1]:99999\nT=1{C=1{MF=t1}}");
    assert_eq!(e.code, 400, "{e}");
    let e = err("!/3 [192.0.2.1]:2944\nT=1{C=1{MF=t1{M{ST=70000{}}}}}");
    assert!(e.reason.contains("StreamID"), "{e}");
}

#[test]
fn sdp_line_without_equals_is_rejected() {
    let e = err("!/3 [192.0.2.1]:2944\nT=1{C=1{MF=t1{M{L{\nv=0\nnonsense\n}}}}}");
    assert!(e.reason.contains("nonsense"), "{e}");
}

#[test]
fn unterminated_quoted_string_and_trailing_garbage() {
    let e = err("!/3 [192.0.2.1]:2944\nP=1{ER=400{\"oops}}");
    assert!(e.reason.contains("unterminated"), "{e}");
    let e = err("!/3 [192.0.2.1]:2944\nT=1{C=1{MF=t1}} }");
    assert!(e.reason.contains("expected Transaction"), "{e}");
}

#[test]
fn binary_garbage_is_an_error_not_a_panic() {
    let mut input = b"MEGACO/3 [192.0.2.1]:2944\nT=1{C=1{MF=".to_vec();
    input.extend([0xff, 0x00, 0xfe, b'{', b'}']);
    let e = decode(&input).unwrap_err();
    assert_eq!(e.code, 403);
    assert!(e.reason.contains("0xff"), "{e}");
}

#[test]
fn deep_nesting_is_bounded() {
    // Embedded events inside embedded events: the grammar allows one level; a hostile peer
    // sending hundreds must get an error, not a stack overflow.
    let mut s = String::from("!/3 [192.0.2.1]:2944\nT=1{C=1{MF=t1{");
    for _ in 0..500 {
        s.push_str("E=1{al/on{EM{");
    }
    let e = err(&s);
    assert_eq!(e.code, 403, "{e}");
}

/// Error texts and values are quotedStrings, which cannot hold a DQUOTE or a line break: the
/// encoder must still write a legal message (found when the AGW answered 510 with
/// `no free port in realm "access"` and its peer could not parse the reply).
#[test]
fn texts_with_quotes_and_line_breaks_encode_to_legal_messages() {
    let reply = "MEGACO/3 [192.0.2.1]:2944\nReply = 9 { Context = 1 { Add = t1 { Error = 510 { \"x\" } } } }";
    let mut m = decode(reply.as_bytes()).unwrap();
    let iq_codec::model::MessageBody::Transactions(ts) = &mut m.body else {
        panic!()
    };
    let iq_codec::model::Transaction::Reply(r) = &mut ts[0] else {
        panic!()
    };
    let iq_codec::model::TransactionResult::Actions(a) = &mut r.result else {
        panic!()
    };
    let text = "no free port in realm \"access\"\nsee log";
    a[0].error = Some(iq_codec::model::ErrorDescriptor {
        code: 510,
        text: Some(text.into()),
    });
    for style in [
        iq_codec::text::Style::Pretty,
        iq_codec::text::Style::Compact,
    ] {
        let out = iq_codec::text::encode(&m, style);
        let back = decode(out.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{out}"));
        let iq_codec::model::MessageBody::Transactions(ts) = back.body else {
            panic!()
        };
        let iq_codec::model::Transaction::Reply(r) = &ts[0] else {
            panic!()
        };
        let iq_codec::model::TransactionResult::Actions(a) = &r.result else {
            panic!()
        };
        let e = a[0].error.as_ref().unwrap();
        assert_eq!(e.code, 510);
        assert_eq!(
            e.text.as_deref(),
            Some("no free port in realm 'access' see log")
        );
    }
}
