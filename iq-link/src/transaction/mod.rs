//! Sans-IO H.248 transaction engine (see the crate docs).
