//! The H.248.8 error codes the control answers with (each reply also carries a text naming
//! what was wrong).

use iq_codec::model::ErrorDescriptor;

/// 411 The transaction refers to an unknown ContextId.
pub const UNKNOWN_CONTEXT: u16 = 411;
/// 412 No ContextIDs available (the configured context cap is reached).
pub const NO_CONTEXT_ID: u16 = 412;
/// 421 Unknown action or illegal combination of actions (e.g. Modify in context `$`, Add in
/// the NULL context, Move within one context).
pub const ILLEGAL_ACTION: u16 = 421;
/// 430 Unknown TerminationID.
pub const UNKNOWN_TERMINATION: u16 = 430;
/// 431 No TerminationID matched a wildcard.
pub const NO_WILDCARD_MATCH: u16 = 431;
/// 432 Out of TerminationIDs or No TerminationID available.
pub const OUT_OF_TERMINATION_IDS: u16 = 432;
/// 433 TerminationID is already in a Context.
pub const ALREADY_IN_CONTEXT: u16 = 433;
/// 435 Termination ID is not in specified Context (it exists in another one).
pub const NOT_IN_CONTEXT: u16 = 435;
/// 440 Unsupported or unknown Package.
pub const UNKNOWN_PACKAGE: u16 = 440;
/// 442 Syntax Error in Command (e.g. `*` in Add, `$` in Subtract).
pub const SYNTAX_IN_COMMAND: u16 = 442;
/// 444 Unsupported or Unknown Descriptor (Modem, Mux, DigitMap, EventBuffer).
pub const UNSUPPORTED_DESCRIPTOR: u16 = 444;
/// 445 Unsupported or Unknown Property (known to the package table, not supported here).
pub const UNSUPPORTED_PROPERTY: u16 = 445;
/// 448 Descriptor appears twice in a command.
pub const DESCRIPTOR_TWICE: u16 = 448;
/// 449 Unsupported or Unknown Parameter or Property Value (bad SDP, unknown proto, unknown
/// realm, CHOOSE where none is allowed, unsupported fingerprint hash, ...).
pub const BAD_VALUE: u16 = 449;
/// 450 No such property in this package.
pub const NO_SUCH_PROPERTY: u16 = 450;
/// 451 No such event in this package.
pub const NO_SUCH_EVENT: u16 = 451;
/// 452 No such signal in this package.
pub const NO_SUCH_SIGNAL: u16 = 452;
/// 500 Internal software failure in the MG (media-plane I/O, lost leg).
pub const INTERNAL: u16 = 500;
/// 501 Not Implemented (Notify from the MGC, known but unsupported protos, ...).
pub const NOT_IMPLEMENTED: u16 = 501;
/// 510 Insufficient resources (no free port in the realm).
pub const INSUFFICIENT_RESOURCES: u16 = 510;
/// 512 Media Gateway unequipped to detect requested Event.
pub const CANNOT_DETECT_EVENT: u16 = 512;
/// 513 Media Gateway unequipped to generate requested Signals.
pub const CANNOT_GENERATE_SIGNAL: u16 = 513;
/// 532 Audited Property, Statistic, Event or Signal does not exist.
pub const NO_SUCH_AUDITED_ITEM: u16 = 532;
/// 542 Command is not allowed on this termination (ROOT in Add/Move/Subtract).
pub const NOT_ALLOWED_ON_TERMINATION: u16 = 542;

/// An error descriptor with text.
pub(crate) fn err(code: u16, text: &str) -> ErrorDescriptor {
    ErrorDescriptor {
        code,
        text: Some(text.into()),
    }
}
