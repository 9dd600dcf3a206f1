//! Any datagram given to the ICE-lite responder: no panic; whatever is answered is a
//! Binding success that verifies with our password and maps the sender.
#![no_main]

use std::net::SocketAddr;

use iq_agw::media::api::IceCredentials;
use iq_agw::media::stun::{answer_binding, verify_message, BINDING_SUCCESS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let local = IceCredentials {
        ufrag: "evtj".into(),
        pwd: "VOkJxbRl1RmTxUk/WvJxBt".into(),
    };
    let remote = IceCredentials {
        ufrag: "h6vY".into(),
        pwd: "unused".into(),
    };
    let from: SocketAddr = "192.0.2.1:32853".parse().unwrap();
    let mut out = Vec::new();
    for peer in [None, Some(&remote)] {
        if let Ok(check) = answer_binding(data, from, &local, peer, &mut out) {
            let view = verify_message(&out, local.pwd.as_bytes()).expect("our answer verifies");
            assert_eq!(view.message_type, BINDING_SUCCESS);
            assert_eq!(view.xor_mapped_address, Some(from));
            assert_eq!(&view.transaction_id[..], &data[8..20]);
            assert!(!check.remote_ufrag.is_empty());
        } else {
            assert!(out.is_empty());
        }
    }
    let _ = verify_message(data, b"key");
});
