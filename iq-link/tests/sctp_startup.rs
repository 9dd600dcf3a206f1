//! Choosing SCTP on a kernel without it fails at start-up with a message that names
//! `modprobe sctp` and the TCP alternative, never "Bad file descriptor"; with kernel SCTP (in the
//! VM) the start-up path works and a wildcard bind is refused. Runs on every host.

use std::io::Write;

use iq_link::transport::{sctp, TransportConfig, TransportError, TransportKind};

fn required() -> bool {
    std::env::var("REQUIRE_KERNEL_SCTP").is_ok_and(|v| v == "1")
}

fn cfg() -> TransportConfig {
    TransportConfig::new(TransportKind::Sctp)
}

#[tokio::test]
async fn without_kernel_sctp_the_error_says_modprobe_and_tcp() {
    match sctp::probe() {
        Ok(()) => {
            // kernel SCTP present (in the VM): the start-up path works and the wildcard is refused
            let e = cfg()
                .listen("0.0.0.0:2944".parse().unwrap())
                .await
                .unwrap_err();
            assert!(matches!(e, TransportError::Config(_)), "{e}");
            assert!(e.to_string().contains("explicit"), "{e}");
        }
        Err(probe_err) => {
            assert!(!required(), "REQUIRE_KERNEL_SCTP=1 but: {probe_err}");
            let listen = cfg()
                .listen("127.0.0.1:2944".parse().unwrap())
                .await
                .unwrap_err();
            let connect = cfg()
                .connect("127.0.0.1:2944".parse().unwrap(), None)
                .await
                .unwrap_err();
            for e in [probe_err, listen, connect] {
                assert!(matches!(e, TransportError::SctpUnavailable(_)), "{e:?}");
                let text = e.to_string();
                assert!(text.contains("modprobe sctp"), "{text}");
                assert!(text.contains("TCP transport"), "{text}");
                assert!(text.contains("IPPROTO_SCTP"), "{text}");
                assert!(!text.contains("Bad file descriptor"), "{text}");
                assert!(e.is_fatal());
            }
            let _ = writeln!(
                std::io::stderr(),
                "no kernel SCTP here; start-up error: {}",
                cfg()
                    .listen("127.0.0.1:2944".parse().unwrap())
                    .await
                    .unwrap_err()
            );
        }
    }
}
