//! Transports behind one trait (see the crate docs).
