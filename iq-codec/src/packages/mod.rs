//! The package table: H.248 package, item and parameter names and their binary identifiers.
//!
//! This is the single place where package definitions live (names, 16-bit IDs, value types,
//! parameters), so that codings which are not confirmed can be remapped per peer by a lab
//! profile (a TOML file, see [`Registry::with_profile`] and `src/packages/README.md`) without
//! touching procedures. The binary (Annex A) codec uses it to turn the text form `pkg/item`
//! (lower case, as held in [`crate::model`]) into the 4-octet `PkgdName` (2 octets package ID,
//! 2 octets item ID) and back, per item kind; and to name event and signal parameters.
//!
//! ```
//! use iq_codec::packages::{ItemKind, Registry};
//!
//! let reg = Registry::builtin();
//! assert_eq!(reg.item_ids(ItemKind::Event, "dd/std"), Some((0x0006, 0x0001)));
//! assert_eq!(reg.item_name(ItemKind::Signal, 0x8f01, 0x0001).as_deref(), Some("xdtls/estab"));
//! assert_eq!(reg.param_id(ItemKind::Event, "xdtls/estfail", "cause"), Some(0x0001));
//! assert_eq!(reg.item_ids(ItemKind::Property, "m"), Some((0x0000, 0xB00F)));
//! assert_eq!(reg.item_name(ItemKind::Event, 0x8f02, 0x0002).as_deref(), Some("p8f02/i0002"));
//! ```
//!
//! # What is in the built-in table
//!
//! | packages | IDs | source | status |
//! |---|---|---|---|
//! | `g root tonegen tonedet dg dd cg cd al ct nt rtp tdmc` | 0x0001–0x000d | H.248.1 Annex E (RFC 3525 text for v1 items; v2 items cross-checked in Wireshark `packet-h248_annex_e.c` and Erlang/OTP `megaco_binary_name_resolver_v3.erl`) | confirmed, except `cg` v2 signal parameter `btd` |
//! | `ipnapt gm tman ipdc hangterm ds rtcph` (Iq mandatory, TS 29.334 Table 5.14.1.1) | 0x0099 0x008c 0x008d 0x009d 0x0098 0x008b 0x00b5 | package names/IDs/versions: TS 29.334 table (via the digest) and the IANA-derived Wireshark package table | package IDs confirmed; **items unconfirmed** except `hangterm/thb` (event 0x0001, Wireshark) |
//! | `it ocp chp ipra adid` (Iq optional, TS 29.334 Table 5.14.2.1) | 0x0045 0x0051 0x0029 0x00e0 0x009c | same | package IDs confirmed; `it/ito` (Wireshark) and `chp/mgcon{reduction}` (Wireshark `packet-h248_10.c`) confirmed; other items unconfirmed; `ipra` has no items yet |
//! | `srtp`, H.248.50 STUN/ICE packages, `seg` | 0x0107, 0x00bd–0x00c5, 0x00a3 | Wireshark package table for the IDs | **text names unconfirmed** (the IANA rows could not be read); `seg` items from megaco (which files them under `root`) |
//! | `an` (H.248.7 generic announcement: signals `apf`, `apv` and their parameters) | 0x001d | Wireshark `packet-h248_7.c` | confirmed |
//! | `xdtls` | 0x8f01 (private range) | digest section 2.4 placeholder | **everything unconfirmed** |
//! | Annex C (package 0x0000) | SDP tags 0xB001–0xB00F, C.1/C.2/C.3/C.5/C.6/C.12 tags | RFC 3525 Annex C (= H.248.1 Annex C), megaco resolver | tags confirmed; text names of non-SDP Annex C properties are ours |
//!
//! # Unconfirmed entries (digest section 7) and how to override them
//!
//! Every entry carries `confirmed` and, when unconfirmed, a `note` saying why. The open points
//! of the digest (section 7) map onto the table like this:
//!
//! 1. TS 29.334 Table 5.17.1.1 coding of the DTLS IEs: the **Establish (D)TLS session** signal
//!    and the **(D)TLS session establishment failure** event are the placeholders `xdtls/estab`
//!    (signal 0x0001) and `xdtls/estfail` (event 0x0001, parameter `cause` 0x0001, string) in the
//!    private package `xdtls` = 0x8f01. The **remote certificate fingerprint**, the **local
//!    certificate fingerprint request** and the **local certificate fingerprint** are SDP lines
//!    (`a=fingerprint:...`, with `$` for the request) inside the Local/Remote descriptors, so they
//!    need **no package item**: in binary they travel as Annex C `a=` properties (tag 0xB00C,
//!    see [`sdp_tag`]). The DTLS role needs no item either (derived from the `estab` signal).
//! 2. Names/IDs of the H.248.90/.93 (TLS/DTLS), H.248.50 (STUN/ICE) and H.248.97 (SCTP) packages:
//!    the H.248.50 packages are listed with their IANA IDs and guessed names and no items;
//!    H.248.90/.93/.97 are absent (IDs unknown) — add them by profile.
//! 5. Text names/parameters of `hangterm` (`thb`, `timerx`), `ipdc/realm`, `ipnapt/latch`, `gm`
//!    filtering properties: present, item IDs unconfirmed (`confirmed: false`).
//! 8. Binary encoding of SDP: Annex C tags, as megaco does ([`sdp_tag`], [`sdp_line_type`]).
//!
//! [`Registry::unconfirmed`] lists every unconfirmed entry of a registry (useful as a start-up
//! log line). To override, write a profile: rename a package or item, change its package ID,
//! item ID or parameter ID, add packages, items and parameters, mark entries confirmed. See
//! [`Registry::with_profile`] and `iq-codec/profiles/example-vendor.toml`.
//!
//! # Names without a table entry
//!
//! Unknown identifiers pass through losslessly. A package ID without an entry is named
//! `p` + 4 lower-case hex digits (`p8f01`), an item or parameter ID without an entry
//! `i` + 4 hex digits (`i0002`); both are valid H.248 text `NAME`s (ALPHA *63(ALPHA/DIGIT/"_")).
//! So package 0x8f01 item 0x0002 is `p8f01/i0002`; item 0x0003 of the known package `g` is
//! `g/i0003`. [`Registry::item_name`] produces these names and [`Registry::item_ids`] accepts
//! them, so BER → model → BER is lossless and text → BER works for such names. Profiles may not
//! define package names of the form `pXXXX` or item/parameter names of the form `iXXXX`.
//!
//! # Wildcards
//!
//! Per H.248.1 Annex A.1 (`PkgdName`): item ID 0xFFFF wildcards the items of a package
//! (`pkg/*`); package ID 0xFFFF is allowed only together with item 0xFFFF (`*/*`). CHOOSE (`$`)
//! is not allowed in a `PkgdName`.
//!
//! # Annex C (package 0x0000)
//!
//! Names without a `/` are H.248.1 Annex C native properties: the SDP line types `v` … `m` used
//! by the model for the lines of Local/Remote descriptors, and the other Annex C properties
//! (lower-case names, e.g. `ipv4`, `port`). [`Registry::item_ids`] maps them to package 0x0000
//! and their tag for [`ItemKind::Property`]; [`Registry::item_name`] maps back. Annex C tags are
//! fixed by H.248.1 and are not remappable by profile.

mod annex_c;
mod builtin;
mod profile;

pub use annex_c::{
    annex_c_name, annex_c_properties, annex_c_tag, sdp_line_type, sdp_tag, AnnexCProperty,
    SDP_LINE_TYPES,
};
pub use profile::ProfileError;

use crate::model::Text;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The lookup maps: every BER name goes through several lookups, and SipHash's DoS resistance
/// buys nothing here (the keys are the table's own; lookups never insert).
type Map<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// A multiply-rotate hasher (the scheme of rustc's FxHasher), for short keys.
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
use std::fmt;
use std::sync::OnceLock;

/// Binary ID meaning "all" in a `PkgdName` (package or item position).
pub const WILDCARD_ID: u16 = 0xFFFF;

/// Package ID of the H.248.1 Annex C native properties (SDP equivalents, IP, ...).
pub const ANNEX_C_PACKAGE_ID: u16 = 0x0000;

/// The four kinds of package item; each has its own ID space inside a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A property (Local/Remote/LocalControl/TerminationState/context descriptors).
    Property,
    /// An event (Events, ObservedEvents, EventBuffer descriptors).
    Event,
    /// A signal (Signals descriptor).
    Signal,
    /// A statistic (Statistics descriptor).
    Statistic,
}

impl ItemKind {
    /// All kinds, in a fixed order.
    pub const ALL: [ItemKind; 4] = [
        ItemKind::Property,
        ItemKind::Event,
        ItemKind::Signal,
        ItemKind::Statistic,
    ];

    /// Lower-case name as used in profiles: `property`, `event`, `signal`, `statistic`.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Property => "property",
            ItemKind::Event => "event",
            ItemKind::Signal => "signal",
            ItemKind::Statistic => "statistic",
        }
    }

    /// Parses [`ItemKind::as_str`] (case-insensitive; `statistics` is accepted too).
    pub fn parse(s: &str) -> Option<ItemKind> {
        match s.to_ascii_lowercase().as_str() {
            "property" => Some(ItemKind::Property),
            "event" => Some(ItemKind::Event),
            "signal" => Some(ItemKind::Signal),
            "statistic" | "statistics" => Some(ItemKind::Statistic),
            _ => None,
        }
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One named value of an enumeration: text name (lower case) and binary value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EnumValue {
    /// Text name, lower case (e.g. `nr`).
    pub name: String,
    /// Binary value (e.g. 0x0001).
    pub value: u32,
}

/// Type of a property, statistic or parameter value (H.248.1 clause 12.1.2 / 12.2 types,
/// plus what the Annex E and Iq packages need).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ValueType {
    /// Boolean (`on`/`off`, `true`/`false` in text).
    Boolean,
    /// 4-octet signed integer, optionally restricted to `min..=max`.
    Integer {
        /// Smallest allowed value.
        min: Option<i64>,
        /// Largest allowed value.
        max: Option<i64>,
    },
    /// Unsigned integer, optionally restricted to `min..=max`.
    UInt {
        /// Smallest allowed value.
        min: Option<u64>,
        /// Largest allowed value.
        max: Option<u64>,
    },
    /// H.248 "double": an 8-octet integer (not a float), e.g. octet counters.
    Double,
    /// UTF-8 string (quoted in text).
    String,
    /// Octet string.
    Octets,
    /// One Unicode character.
    Character,
    /// Enumeration: one of the listed values.
    Enum(Vec<EnumValue>),
    /// Sub-list of values of the inner type.
    SubList(Box<ValueType>),
    /// A `PkgdName` (e.g. `g/sc` parameter `SigID`: binary octet string, text `pkg/item`).
    PkgdName,
    /// No value: events and signals themselves.
    NoValue,
    /// Not known (unconfirmed items, items added by profile without a type).
    Unknown,
}

impl ValueType {
    /// An integer without range.
    pub fn integer() -> Self {
        ValueType::Integer {
            min: None,
            max: None,
        }
    }

    /// An integer restricted to `min..=max`.
    pub fn integer_range(min: i64, max: i64) -> Self {
        ValueType::Integer {
            min: Some(min),
            max: Some(max),
        }
    }

    /// An unsigned integer without range.
    pub fn uint() -> Self {
        ValueType::UInt {
            min: None,
            max: None,
        }
    }

    /// An enumeration from `(name, value)` pairs.
    pub fn enumeration(values: &[(&str, u32)]) -> Self {
        ValueType::Enum(
            values
                .iter()
                .map(|(n, v)| EnumValue {
                    name: n.to_ascii_lowercase(),
                    value: *v,
                })
                .collect(),
        )
    }

    /// A sub-list of `inner`.
    pub fn sublist(inner: ValueType) -> Self {
        ValueType::SubList(Box::new(inner))
    }

    /// Binary value of an enumeration value name (case-insensitive); `None` if not an enum or
    /// no such value.
    pub fn enum_value(&self, name: &str) -> Option<u32> {
        match self {
            ValueType::Enum(vals) => vals
                .iter()
                .find(|v| v.name.eq_ignore_ascii_case(name))
                .map(|v| v.value),
            ValueType::SubList(inner) => inner.enum_value(name),
            _ => None,
        }
    }

    /// Name of an enumeration value; `None` if not an enum or no such value.
    pub fn enum_name(&self, value: u32) -> Option<&str> {
        match self {
            ValueType::Enum(vals) => vals
                .iter()
                .find(|v| v.value == value)
                .map(|v| v.name.as_str()),
            ValueType::SubList(inner) => inner.enum_name(value),
            _ => None,
        }
    }
}

/// An event or signal parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ParamDef {
    /// Text name, lower case (e.g. `timerx`, `cause`).
    pub name: String,
    /// Binary parameter ID.
    pub id: u16,
    /// Value type.
    pub value_type: ValueType,
    /// `false` if name or ID are placeholders / not verified in a source.
    pub confirmed: bool,
}

impl ParamDef {
    /// A confirmed parameter.
    pub fn new(name: &str, id: u16, value_type: ValueType) -> Self {
        ParamDef {
            name: name.to_ascii_lowercase(),
            id,
            value_type,
            confirmed: true,
        }
    }

    /// Marks the parameter unconfirmed.
    pub fn unconfirmed(mut self) -> Self {
        self.confirmed = false;
        self
    }
}

/// A property, event, signal or statistic of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ItemDef {
    /// Which ID space the item lives in.
    pub kind: ItemKind,
    /// Text name, lower case (e.g. `thb`).
    pub name: String,
    /// Binary item ID.
    pub id: u16,
    /// Value type (properties, statistics); [`ValueType::NoValue`] for events and signals.
    pub value_type: ValueType,
    /// Event/signal parameters.
    pub params: Vec<ParamDef>,
    /// `false` if name or ID are placeholders / not verified in a source.
    pub confirmed: bool,
    /// Why unconfirmed, or other remarks.
    pub note: Option<String>,
}

impl ItemDef {
    /// A confirmed item without parameters; events and signals get [`ValueType::NoValue`],
    /// properties and statistics [`ValueType::Unknown`] until [`ItemDef::with_type`].
    pub fn new(kind: ItemKind, name: &str, id: u16) -> Self {
        let value_type = match kind {
            ItemKind::Event | ItemKind::Signal => ValueType::NoValue,
            ItemKind::Property | ItemKind::Statistic => ValueType::Unknown,
        };
        ItemDef {
            kind,
            name: name.to_ascii_lowercase(),
            id,
            value_type,
            params: Vec::new(),
            confirmed: true,
            note: None,
        }
    }

    /// Sets the value type.
    pub fn with_type(mut self, value_type: ValueType) -> Self {
        self.value_type = value_type;
        self
    }

    /// Adds a parameter.
    pub fn with_param(mut self, param: ParamDef) -> Self {
        self.params.push(param);
        self
    }

    /// Sets the note.
    pub fn with_note(mut self, note: &str) -> Self {
        self.note = Some(note.to_string());
        self
    }

    /// Marks the item (and all its parameters) unconfirmed, with the reason.
    pub fn unconfirmed(mut self, note: &str) -> Self {
        self.confirmed = false;
        for p in &mut self.params {
            p.confirmed = false;
        }
        self.note = Some(note.to_string());
        self
    }

    /// The parameter with this name (case-insensitive).
    pub fn param_by_name(&self, name: &str) -> Option<&ParamDef> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The parameter with this ID.
    pub fn param_by_id(&self, id: u16) -> Option<&ParamDef> {
        self.params.iter().find(|p| p.id == id)
    }
}

/// A package: name, ID, version, base package and items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PackageDef {
    /// Text name, lower case (e.g. `hangterm`).
    pub name: String,
    /// Binary package ID.
    pub id: u16,
    /// Package version (1..=99).
    pub version: u8,
    /// Name of the package this one extends; its items are usable through this package
    /// (`dd/std` = package `dd`, item `std` of `tonedet`).
    pub extends: Option<String>,
    /// Items defined by this package itself (not the inherited ones).
    pub items: Vec<ItemDef>,
    /// `false` if name or ID are placeholders / not verified.
    pub confirmed: bool,
    /// Where the definition comes from (e.g. "H.248.1 Annex E.1", "digest placeholder").
    pub source: String,
    /// Why unconfirmed, or other remarks.
    pub note: Option<String>,
}

impl PackageDef {
    /// A confirmed, version 1 package without items.
    pub fn new(name: &str, id: u16) -> Self {
        PackageDef {
            name: name.to_ascii_lowercase(),
            id,
            version: 1,
            extends: None,
            items: Vec::new(),
            confirmed: true,
            source: String::new(),
            note: None,
        }
    }

    /// Sets the version.
    pub fn with_version(mut self, version: u8) -> Self {
        self.version = version;
        self
    }

    /// Sets the base package.
    pub fn with_extends(mut self, base: &str) -> Self {
        self.extends = Some(base.to_ascii_lowercase());
        self
    }

    /// Sets the source.
    pub fn with_source(mut self, source: &str) -> Self {
        self.source = source.to_string();
        self
    }

    /// Adds an item.
    pub fn with_item(mut self, item: ItemDef) -> Self {
        self.items.push(item);
        self
    }

    /// Adds items.
    pub fn with_items(mut self, items: impl IntoIterator<Item = ItemDef>) -> Self {
        self.items.extend(items);
        self
    }

    /// Marks the package unconfirmed (its name or ID), with the reason. Items keep their own
    /// status.
    pub fn unconfirmed(mut self, note: &str) -> Self {
        self.confirmed = false;
        self.note = Some(note.to_string());
        self
    }

    /// The package's own item of this kind and name.
    pub fn own_item(&self, kind: ItemKind, name: &str) -> Option<&ItemDef> {
        self.items
            .iter()
            .find(|i| i.kind == kind && i.name.eq_ignore_ascii_case(name))
    }
}

/// Position of an item: package index and item index in [`Registry::packages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ItemRef {
    pkg: usize,
    item: usize,
}

/// Effective items of one kind of one package (own and inherited).
#[derive(Debug, Clone, Default)]
struct KindIndex {
    by_name: Map<String, ItemRef>,
    by_id: Map<u16, ItemRef>,
}

/// The package registry: all package definitions with lookup tables both ways.
///
/// Built from [`Registry::builtin`] and optionally a lab profile ([`Registry::with_profile`]).
/// Lookups are hash-map based. Two registries are equal when their package definitions are.
#[derive(Clone)]
pub struct Registry {
    packages: Vec<PackageDef>,
    pkg_by_name: Map<String, usize>,
    pkg_by_id: Map<u16, usize>,
    items: Map<(u16, ItemKind), KindIndex>,
    /// `pkg/item` of every item with a table entry, by package ID, item ID and kind, made once
    /// here: the BER decoder asks for a name per `PkgdName` it reads, and a clone of a built
    /// name (no allocation up to 24 bytes) costs a third of assembling it from the two tables.
    full_names: Map<(u16, u16, ItemKind), Text>,
}

impl PartialEq for Registry {
    fn eq(&self, other: &Self) -> bool {
        self.packages == other.packages
    }
}

impl Eq for Registry {}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.packages
                    .iter()
                    .map(|p| format!("{}=0x{:04x} ({} items)", p.name, p.id, p.items.len())),
            )
            .finish()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::builtin()
    }
}

/// Lower-cases only when needed.
fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// `prefix` + exactly 4 hex digits → the number.
fn parse_hex_name(s: &str, prefix: u8) -> Option<u16> {
    let b = s.as_bytes();
    if b.len() != 5 || !b[0].eq_ignore_ascii_case(&prefix) {
        return None;
    }
    if !b[1..].iter().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(&s[1..], 16).ok()
}

/// `prefix` + 4 lower-case hex digits of `id`, appended to `out`.
fn push_hex_name(out: &mut Text, prefix: char, id: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(prefix);
    for shift in [12, 8, 4, 0] {
        out.push(char::from(HEX[usize::from(id >> shift & 15)]));
    }
}

/// Text name for a package ID without a table entry: `p` + 4 hex digits.
pub fn hex_package_name(id: u16) -> String {
    format!("p{id:04x}")
}

/// Text name for an item or parameter ID without a table entry: `i` + 4 hex digits.
pub fn hex_item_name(id: u16) -> String {
    format!("i{id:04x}")
}

/// `true` if `s` is a valid H.248 text NAME: ALPHA *63(ALPHA / DIGIT / "_").
pub fn is_valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphabetic()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// `true` if `s` has the reserved form of an unknown package name (`pXXXX`).
pub fn is_reserved_package_name(s: &str) -> bool {
    parse_hex_name(s, b'p').is_some()
}

/// `true` if `s` has the reserved form of an unknown item/parameter name (`iXXXX`).
pub fn is_reserved_item_name(s: &str) -> bool {
    parse_hex_name(s, b'i').is_some()
}

impl Registry {
    /// The built-in table (H.248.1 Annex E, Iq packages, placeholders). See the module docs.
    pub fn builtin() -> Registry {
        Registry::from_packages(builtin::packages())
            .expect("the built-in package table is consistent")
    }

    /// A shared instance of [`Registry::builtin`], built once.
    pub fn shared_builtin() -> &'static Registry {
        static REG: OnceLock<Registry> = OnceLock::new();
        REG.get_or_init(Registry::builtin)
    }

    /// The built-in table with a lab profile (TOML) applied. See `src/packages/README.md`.
    pub fn with_profile(toml_text: &str) -> Result<Registry, ProfileError> {
        let mut reg = Registry::builtin();
        reg.apply_profile(toml_text)?;
        Ok(reg)
    }

    /// Applies a profile on top of this registry. Atomic: on error `self` is unchanged.
    /// Applying the same profile again leaves the registry unchanged (entries are upserts).
    pub fn apply_profile(&mut self, toml_text: &str) -> Result<(), ProfileError> {
        let mut packages = self.packages.clone();
        profile::apply(&mut packages, toml_text)?;
        *self = Registry::from_packages(packages).map_err(|message| ProfileError::Conflict {
            line: None,
            message,
        })?;
        Ok(())
    }

    /// A registry from explicit definitions; checks names, IDs and conflicts.
    pub fn from_package_defs(packages: Vec<PackageDef>) -> Result<Registry, ProfileError> {
        Registry::from_packages(packages).map_err(|message| ProfileError::Conflict {
            line: None,
            message,
        })
    }

    /// Adds a package. Fails (and leaves `self` unchanged) on a name/ID conflict.
    pub fn insert_package(&mut self, package: PackageDef) -> Result<(), ProfileError> {
        let mut packages = self.packages.clone();
        packages.push(package);
        *self = Registry::from_package_defs(packages)?;
        Ok(())
    }

    /// Builds the indexes; the error text names the conflict.
    pub(crate) fn from_packages(packages: Vec<PackageDef>) -> Result<Registry, String> {
        validate_packages(&packages)?;
        let mut pkg_by_name = Map::with_capacity_and_hasher(packages.len(), Default::default());
        let mut pkg_by_id = Map::with_capacity_and_hasher(packages.len(), Default::default());
        for (i, p) in packages.iter().enumerate() {
            if let Some(j) = pkg_by_name.insert(p.name.clone(), i) {
                return Err(format!(
                    "package name '{}' defined twice (IDs 0x{:04x} and 0x{:04x})",
                    p.name, packages[j].id, p.id
                ));
            }
            if let Some(j) = pkg_by_id.insert(p.id, i) {
                return Err(format!(
                    "package ID 0x{:04x} used by both '{}' and '{}'",
                    p.id, packages[j].name, p.name
                ));
            }
        }
        let mut items: Map<(u16, ItemKind), KindIndex> = Map::default();
        for (i, p) in packages.iter().enumerate() {
            // The extension chain: this package, its base, the base's base, ...
            let mut chain = vec![i];
            let mut cur = i;
            while let Some(base) = &packages[cur].extends {
                let Some(&b) = pkg_by_name.get(base.as_str()) else {
                    return Err(format!(
                        "package '{}' extends unknown package '{}'",
                        packages[cur].name, base
                    ));
                };
                if chain.contains(&b) {
                    return Err(format!(
                        "package '{}' has a circular 'extends' chain",
                        p.name
                    ));
                }
                chain.push(b);
                cur = b;
            }
            for &pi in &chain {
                for (ii, item) in packages[pi].items.iter().enumerate() {
                    let r = ItemRef { pkg: pi, item: ii };
                    let idx = items.entry((p.id, item.kind)).or_default();
                    if let Some(old) = idx.by_name.insert(item.name.clone(), r) {
                        return Err(format!(
                            "package '{}': {} name '{}' defined twice (in '{}' and '{}')",
                            p.name, item.kind, item.name, packages[old.pkg].name, packages[pi].name
                        ));
                    }
                    if let Some(old) = idx.by_id.insert(item.id, r) {
                        let o = &packages[old.pkg].items[old.item];
                        return Err(format!(
                            "package '{}': {} ID 0x{:04x} used by both '{}' and '{}'",
                            p.name, item.kind, item.id, o.name, item.name
                        ));
                    }
                }
            }
        }
        let mut full_names = Map::default();
        for (&(pkg_id, kind), idx) in &items {
            let pkg = &packages[pkg_by_id[&pkg_id]].name;
            for (&item_id, r) in &idx.by_id {
                let item = &packages[r.pkg].items[r.item].name;
                let mut name = Text::with_capacity(pkg.len() + 1 + item.len());
                name.push_str(pkg);
                name.push('/');
                name.push_str(item);
                full_names.insert((pkg_id, item_id, kind), name);
            }
        }
        Ok(Registry {
            packages,
            pkg_by_name,
            pkg_by_id,
            items,
            full_names,
        })
    }

    /// All package definitions, in table order.
    pub fn packages(&self) -> &[PackageDef] {
        &self.packages
    }

    /// The package with this text name (case-insensitive).
    pub fn package_by_name(&self, name: &str) -> Option<&PackageDef> {
        self.pkg_by_name
            .get(lower(name).as_ref())
            .map(|&i| &self.packages[i])
    }

    /// The package with this binary ID.
    pub fn package_by_id(&self, id: u16) -> Option<&PackageDef> {
        self.pkg_by_id.get(&id).map(|&i| &self.packages[i])
    }

    /// Binary ID of a package name: a table name or the `pXXXX` form. `None` for unknown
    /// names, `*` and `$`.
    pub fn package_id(&self, name: &str) -> Option<u16> {
        self.package_id_lower(&lower(name))
    }

    /// [`Registry::package_id`] of a name already in lower case.
    fn package_id_lower(&self, name: &str) -> Option<u16> {
        if let Some(&i) = self.pkg_by_name.get(name) {
            return Some(self.packages[i].id);
        }
        parse_hex_name(name, b'p').filter(|&id| id != WILDCARD_ID)
    }

    /// Text name of a package ID: the table name or the `pXXXX` form (`*` for 0xFFFF).
    pub fn package_name(&self, id: u16) -> String {
        if id == WILDCARD_ID {
            return "*".to_string();
        }
        match self.package_by_id(id) {
            Some(p) => p.name.clone(),
            None => hex_package_name(id),
        }
    }

    /// The item of this kind named `item` usable through package `pkg_id` (own or inherited).
    fn lookup_by_name(&self, kind: ItemKind, pkg_id: u16, item: &str) -> Option<&ItemDef> {
        let r = self.items.get(&(pkg_id, kind))?.by_name.get(item)?;
        Some(&self.packages[r.pkg].items[r.item])
    }

    fn lookup_by_id(&self, kind: ItemKind, pkg_id: u16, item: u16) -> Option<&ItemDef> {
        let r = self.items.get(&(pkg_id, kind))?.by_id.get(&item)?;
        Some(&self.packages[r.pkg].items[r.item])
    }

    /// Definition of the item `pkg/item` of this kind (resolving `extends`); `None` for
    /// wildcards, Annex C names and names without a table entry.
    pub fn item_def(&self, kind: ItemKind, pkgd_name: &str) -> Option<&ItemDef> {
        let name = lower(pkgd_name);
        let (pkg, item) = name.split_once('/')?;
        let pkg_id = self.package_by_name(pkg)?.id;
        self.lookup_by_name(kind, pkg_id, item)
    }

    /// Definition of the item with these IDs (resolving `extends`).
    pub fn item_def_by_id(&self, kind: ItemKind, pkg_id: u16, item_id: u16) -> Option<&ItemDef> {
        self.lookup_by_id(kind, pkg_id, item_id)
    }

    /// Text name `pkg/item` → (package ID, item ID) for the binary `PkgdName`.
    ///
    /// Handles `extends` (`dd/std` → (0x0006, 0x0001)), wildcards (`pkg/*` → item 0xFFFF,
    /// `*/*` → (0xFFFF, 0xFFFF); `*/item` and `$` are refused), names without a table entry
    /// (`p8f01/i0002`, `g/i0003`) and Annex C names without `/` (properties only: `v` →
    /// (0x0000, 0xB001)). Case-insensitive. `None` if the name cannot be encoded.
    pub fn item_ids(&self, kind: ItemKind, pkgd_name: &str) -> Option<(u16, u16)> {
        // Byte searches, not `char` patterns: this runs for every name of every BER message
        // encoded (it was a third of the encoder's instructions).
        let name = lower(pkgd_name);
        let Some(slash) = name.bytes().position(|b| b == b'/') else {
            if kind != ItemKind::Property {
                return None;
            }
            return annex_c::annex_c_tag(&name).map(|t| (ANNEX_C_PACKAGE_ID, t));
        };
        let (pkg, item) = (&name[..slash], &name[slash + 1..]);
        if item.bytes().any(|b| b == b'/') {
            return None;
        }
        if pkg == "*" {
            return (item == "*").then_some((WILDCARD_ID, WILDCARD_ID));
        }
        let pkg_id = self.package_id_lower(pkg)?;
        if item == "*" {
            return Some((pkg_id, WILDCARD_ID));
        }
        if let Some(def) = self.lookup_by_name(kind, pkg_id, item) {
            return Some((pkg_id, def.id));
        }
        parse_hex_name(item, b'i')
            .filter(|&id| id != WILDCARD_ID)
            .map(|id| (pkg_id, id))
    }

    /// (package ID, item ID) → text name `pkg/item` (lower case).
    ///
    /// Wildcards give `pkg/*` and `*/*`; IDs without a table entry give the `pXXXX` / `iXXXX`
    /// forms; Annex C tags (package 0x0000, properties) give the bare Annex C name (`v`, `m`,
    /// `ipv4`, ...). `None` only for package 0xFFFF with an item other than 0xFFFF (not a valid
    /// `PkgdName`).
    pub fn item_name(&self, kind: ItemKind, pkg_id: u16, item_id: u16) -> Option<Text> {
        if pkg_id == WILDCARD_ID {
            return (item_id == WILDCARD_ID).then(|| Text::const_new("*/*"));
        }
        if pkg_id == ANNEX_C_PACKAGE_ID && kind == ItemKind::Property {
            if let Some(n) = annex_c::annex_c_name(item_id) {
                return Some(Text::from(n));
            }
        }
        if let Some(name) = self.full_names.get(&(pkg_id, item_id, kind)) {
            return Some(name.clone());
        }
        // No table entry for the item (`full_names` holds every one there is, and no item
        // has the wildcard ID): the package's name or `pXXXX`, then `*` or `iXXXX`.
        let pkg = self.package_by_id(pkg_id);
        let mut out = Text::with_capacity(pkg.map_or(5, |p| p.name.len()) + 6);
        match pkg {
            Some(p) => out.push_str(&p.name),
            None => push_hex_name(&mut out, 'p', pkg_id),
        }
        out.push('/');
        if item_id == WILDCARD_ID {
            out.push('*');
        } else {
            push_hex_name(&mut out, 'i', item_id);
        }
        Some(out)
    }

    /// Binary ID of parameter `param` of item `pkgd_name` (event or signal parameter, or
    /// other parameter of an item). Falls back to the `iXXXX` form. `None` if the item cannot be
    /// encoded, is a wildcard, or the parameter is unknown and not in `iXXXX` form.
    pub fn param_id(&self, kind: ItemKind, pkgd_name: &str, param: &str) -> Option<u16> {
        let (pkg_id, item_id) = self.item_ids(kind, pkgd_name)?;
        if pkg_id == WILDCARD_ID || item_id == WILDCARD_ID {
            return None;
        }
        let param = lower(param);
        if let Some(p) = self
            .lookup_by_id(kind, pkg_id, item_id)
            .and_then(|d| d.param_by_name(&param))
        {
            return Some(p.id);
        }
        parse_hex_name(&param, b'i')
    }

    /// Text name of parameter `param_id` of the item with these IDs; the `iXXXX` form when the
    /// table has no entry. `None` for wildcarded items.
    pub fn param_name(
        &self,
        kind: ItemKind,
        pkg_id: u16,
        item_id: u16,
        param_id: u16,
    ) -> Option<Text> {
        if pkg_id == WILDCARD_ID || item_id == WILDCARD_ID {
            return None;
        }
        Some(
            match self
                .lookup_by_id(kind, pkg_id, item_id)
                .and_then(|d| d.param_by_id(param_id))
            {
                Some(p) => Text::from(p.name.as_str()),
                None => {
                    let mut t = Text::default();
                    push_hex_name(&mut t, 'i', param_id);
                    t
                }
            },
        )
    }

    /// Definition of a parameter, by names.
    pub fn param_def(&self, kind: ItemKind, pkgd_name: &str, param: &str) -> Option<&ParamDef> {
        self.item_def(kind, pkgd_name)?.param_by_name(param)
    }

    /// Every unconfirmed entry, one line each, e.g.
    /// `signal xdtls/estab = 0x8f01/0x0001: <note>`. Packages first, in table order.
    pub fn unconfirmed(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.packages {
            if !p.confirmed {
                out.push(format!(
                    "package {} = 0x{:04x}: {}",
                    p.name,
                    p.id,
                    p.note.as_deref().unwrap_or("unconfirmed")
                ));
            }
            for i in &p.items {
                if !i.confirmed {
                    out.push(format!(
                        "{} {}/{} = 0x{:04x}/0x{:04x}: {}",
                        i.kind,
                        p.name,
                        i.name,
                        p.id,
                        i.id,
                        i.note.as_deref().unwrap_or("unconfirmed")
                    ));
                }
                for par in &i.params {
                    if !par.confirmed && i.confirmed {
                        out.push(format!(
                            "parameter {}/{}.{} = 0x{:04x}",
                            p.name, i.name, par.name, par.id
                        ));
                    }
                }
            }
        }
        out
    }
}

/// Checks names and IDs of every definition (not the cross-package conflicts).
fn validate_packages(packages: &[PackageDef]) -> Result<(), String> {
    for p in packages {
        if !is_valid_name(&p.name) || p.name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "package name '{}' is not a lower-case H.248 NAME",
                p.name
            ));
        }
        if is_reserved_package_name(&p.name) {
            return Err(format!(
                "package name '{}' has the reserved form pXXXX (used for unknown IDs)",
                p.name
            ));
        }
        if p.id == ANNEX_C_PACKAGE_ID || p.id == WILDCARD_ID {
            return Err(format!(
                "package '{}': ID 0x{:04x} is reserved (0x0000 Annex C, 0xFFFF wildcard)",
                p.name, p.id
            ));
        }
        if !(1..=99).contains(&p.version) {
            return Err(format!(
                "package '{}': version {} not in 1..=99",
                p.name, p.version
            ));
        }
        for i in &p.items {
            check_item_name(&p.name, &i.name)?;
            if i.id == WILDCARD_ID {
                return Err(format!(
                    "package '{}': {} '{}' has the wildcard ID 0xFFFF",
                    p.name, i.kind, i.name
                ));
            }
            let mut seen: Vec<&ParamDef> = Vec::new();
            for par in &i.params {
                check_item_name(&p.name, &par.name)?;
                if let Some(o) = seen.iter().find(|o| o.name == par.name || o.id == par.id) {
                    return Err(format!(
                        "package '{}': {} '{}': parameters '{}' (0x{:04x}) and '{}' (0x{:04x}) clash",
                        p.name, i.kind, i.name, o.name, o.id, par.name, par.id
                    ));
                }
                seen.push(par);
            }
        }
    }
    Ok(())
}

fn check_item_name(pkg: &str, name: &str) -> Result<(), String> {
    if !is_valid_name(name) || name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "package '{pkg}': name '{name}' is not a lower-case H.248 NAME"
        ));
    }
    if is_reserved_item_name(name) {
        return Err(format!(
            "package '{pkg}': name '{name}' has the reserved form iXXXX (used for unknown IDs)"
        ));
    }
    Ok(())
}
