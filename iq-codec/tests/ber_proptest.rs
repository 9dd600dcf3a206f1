//! Generated models through the BER codec: model → BER → model is the identity and
//! BER → model → BER keeps the octets. The generator (`tests/ber_gen`, shared with
//! `ber_direct_enc.rs` and `ber_direct.rs`) is smaller than `proptest_roundtrip.rs`'s:
//! it produces only what BER can express in canonical form (names with binary IDs or in
//! `pXXXX/iXXXX` form, termination IDs of the default mapping, audit tokens and completion
//! reasons in bit order, `dialplanDD` digit map names), so no normalisation applies.

mod ber_gen;

use ber_gen::message;
use iq_codec::binary::BinaryCodec;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn generated_models_round_trip_through_ber(m in message()) {
        let c = BinaryCodec::default();
        let ber = c.encode(&m).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = c.decode(&ber).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &m);
        prop_assert_eq!(c.encode(&back).unwrap(), ber);
    }
}
