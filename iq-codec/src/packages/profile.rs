//! Lab profiles: TOML files that remap the package table per peer.
//!
//! The format is documented in `src/packages/README.md`; `iq-codec/profiles/example-vendor.toml`
//! is a complete example.

use super::{
    is_reserved_item_name, is_reserved_package_name, is_valid_name, EnumValue, ItemDef, ItemKind,
    PackageDef, ParamDef, Registry, ValueType,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// Why a profile could not be applied. `line` is the 1-based line of the offending entry
/// (`None` when it cannot be told).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// Not valid TOML, or a key/value of the wrong type or not part of the format.
    #[error("profile syntax error{}: {message}", at(.line))]
    Syntax {
        /// Line of the error.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A value is out of range, a name is invalid or reserved, an entry names something that
    /// does not exist, or a required key is missing.
    #[error("profile error{}: {message}", at(.line))]
    Invalid {
        /// Line of the entry.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// After the entry, two packages share a name or ID, two items of one kind share a name or
    /// ID in a package (own or inherited), two parameters of an item clash, or `extends` is
    /// broken.
    #[error("profile conflict{}: {message}", at(.line))]
    Conflict {
        /// Line of the entry that caused it.
        line: Option<usize>,
        /// Which names/IDs clash.
        message: String,
    },
}

impl ProfileError {
    /// The line the error refers to, if known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ProfileError::Syntax { line, .. }
            | ProfileError::Invalid { line, .. }
            | ProfileError::Conflict { line, .. } => *line,
        }
    }
}

fn at(line: &Option<usize>) -> String {
    match line {
        Some(l) => format!(" at line {l}"),
        None => String::new(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    #[serde(default)]
    profile: Option<Meta>,
    #[serde(default)]
    package: Vec<Spanned<PkgEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    name: Option<String>,
    peer: Option<String>,
    /// Informational only.
    #[allow(dead_code)]
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PkgEntry {
    #[serde(rename = "match")]
    matches: Option<String>,
    name: Option<String>,
    id: Option<i64>,
    version: Option<i64>,
    extends: Option<String>,
    confirmed: Option<bool>,
    source: Option<String>,
    note: Option<String>,
    #[serde(default)]
    remove: bool,
    #[serde(default)]
    item: Vec<Spanned<ItemEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemEntry {
    #[serde(rename = "match")]
    matches: Option<String>,
    kind: String,
    name: Option<String>,
    id: Option<i64>,
    #[serde(rename = "type")]
    vtype: Option<String>,
    min: Option<i64>,
    max: Option<i64>,
    values: Option<BTreeMap<String, i64>>,
    of: Option<String>,
    confirmed: Option<bool>,
    note: Option<String>,
    #[serde(default)]
    remove: bool,
    #[serde(default)]
    param: Vec<Spanned<ParamEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamEntry {
    #[serde(rename = "match")]
    matches: Option<String>,
    name: Option<String>,
    id: Option<i64>,
    #[serde(rename = "type")]
    vtype: Option<String>,
    min: Option<i64>,
    max: Option<i64>,
    values: Option<BTreeMap<String, i64>>,
    of: Option<String>,
    confirmed: Option<bool>,
    #[serde(default)]
    remove: bool,
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn invalid(line: usize, message: String) -> ProfileError {
    ProfileError::Invalid {
        line: Some(line),
        message,
    }
}

/// Applies a profile to a list of definitions; each entry is checked for conflicts at once.
pub(super) fn apply(packages: &mut Vec<PackageDef>, text: &str) -> Result<(), ProfileError> {
    let file: ProfileFile = toml::from_str(text).map_err(|e| ProfileError::Syntax {
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    let origin = match &file.profile {
        Some(Meta {
            name: Some(n),
            peer,
            ..
        }) => match peer {
            Some(p) => format!("lab profile '{n}' (peer {p})"),
            None => format!("lab profile '{n}'"),
        },
        _ => "lab profile".to_string(),
    };
    for entry in file.package {
        let line = line_of(text, entry.span().start);
        apply_package(packages, entry.into_inner(), line, text, &origin)?;
        Registry::from_packages(packages.clone()).map_err(|message| ProfileError::Conflict {
            line: Some(line),
            message,
        })?;
    }
    Ok(())
}

/// Lower-cases and checks a package name.
fn package_name(s: &str, line: usize) -> Result<String, ProfileError> {
    let n = s.to_ascii_lowercase();
    if !is_valid_name(&n) {
        return Err(invalid(
            line,
            format!("'{s}' is not a valid H.248 package name (ALPHA *63(ALPHA/DIGIT/\"_\"))"),
        ));
    }
    if is_reserved_package_name(&n) {
        return Err(invalid(
            line,
            format!("package name '{s}' has the reserved form pXXXX (names of unknown IDs)"),
        ));
    }
    Ok(n)
}

/// Lower-cases and checks an item or parameter name.
fn item_name(s: &str, line: usize) -> Result<String, ProfileError> {
    let n = s.to_ascii_lowercase();
    if !is_valid_name(&n) {
        return Err(invalid(
            line,
            format!("'{s}' is not a valid H.248 name (ALPHA *63(ALPHA/DIGIT/\"_\"))"),
        ));
    }
    if is_reserved_item_name(&n) {
        return Err(invalid(
            line,
            format!("name '{s}' has the reserved form iXXXX (names of unknown IDs)"),
        ));
    }
    Ok(n)
}

fn id16(v: i64, what: &str, allow_zero: bool, line: usize) -> Result<u16, ProfileError> {
    let lo = if allow_zero { 0 } else { 1 };
    if v < lo || v >= 0xFFFF {
        return Err(invalid(
            line,
            format!("{what} 0x{v:x} out of range 0x{lo:04x}..=0xfffe (0xffff is the wildcard)"),
        ));
    }
    Ok(v as u16)
}

struct TypeKeys<'a> {
    vtype: Option<&'a str>,
    min: Option<i64>,
    max: Option<i64>,
    values: Option<&'a BTreeMap<String, i64>>,
    of: Option<&'a str>,
}

/// Builds a value type from the `type`/`min`/`max`/`values`/`of` keys.
fn build_type(k: &TypeKeys<'_>, line: usize) -> Result<Option<ValueType>, ProfileError> {
    let Some(t) = k.vtype else {
        if k.min.is_some() || k.max.is_some() || k.values.is_some() || k.of.is_some() {
            return Err(invalid(line, "min/max/values/of need a 'type'".to_string()));
        }
        return Ok(None);
    };
    let t = t.to_ascii_lowercase();
    if t == "sublist" {
        let Some(inner) = k.of else {
            return Err(invalid(
                line,
                "type 'sublist' needs 'of' (the element type)".to_string(),
            ));
        };
        if inner.eq_ignore_ascii_case("sublist") {
            return Err(invalid(
                line,
                "a sublist of sublists is not allowed".to_string(),
            ));
        }
        let inner = scalar_type(inner, k, line)?;
        return Ok(Some(ValueType::sublist(inner)));
    }
    if k.of.is_some() {
        return Err(invalid(line, "'of' is only for type 'sublist'".to_string()));
    }
    scalar_type(&t, k, line).map(Some)
}

fn scalar_type(t: &str, k: &TypeKeys<'_>, line: usize) -> Result<ValueType, ProfileError> {
    let t = t.to_ascii_lowercase();
    let ranged = matches!(t.as_str(), "integer" | "uint");
    if !ranged && (k.min.is_some() || k.max.is_some()) {
        return Err(invalid(
            line,
            format!("min/max are only for integer/uint, not '{t}'"),
        ));
    }
    if t != "enum" && k.values.is_some() {
        return Err(invalid(
            line,
            format!("'values' is only for enum, not '{t}'"),
        ));
    }
    Ok(match t.as_str() {
        "boolean" => ValueType::Boolean,
        "integer" => ValueType::Integer {
            min: k.min,
            max: k.max,
        },
        "uint" => {
            let conv = |v: Option<i64>| -> Result<Option<u64>, ProfileError> {
                v.map(|x| {
                    u64::try_from(x)
                        .map_err(|_| invalid(line, format!("uint bound {x} is negative")))
                })
                .transpose()
            };
            ValueType::UInt {
                min: conv(k.min)?,
                max: conv(k.max)?,
            }
        }
        "double" => ValueType::Double,
        "string" => ValueType::String,
        "octets" => ValueType::Octets,
        "character" => ValueType::Character,
        "pkgdname" => ValueType::PkgdName,
        "none" => ValueType::NoValue,
        "unknown" => ValueType::Unknown,
        "enum" => {
            let Some(values) = k.values else {
                return Err(invalid(
                    line,
                    "type 'enum' needs 'values' (a table name = number)".to_string(),
                ));
            };
            let mut out = Vec::with_capacity(values.len());
            for (name, v) in values {
                let n = item_name(name, line)?;
                let v = u32::try_from(*v).map_err(|_| {
                    invalid(line, format!("enum value {name} = {v} is out of range"))
                })?;
                if let Some(o) = out.iter().find(|o: &&EnumValue| o.value == v) {
                    return Err(ProfileError::Conflict {
                        line: Some(line),
                        message: format!(
                            "enum values '{}' and '{n}' both have value {v}",
                            o.name
                        ),
                    });
                }
                out.push(EnumValue { name: n, value: v });
            }
            out.sort_by(|a, b| a.value.cmp(&b.value).then_with(|| a.name.cmp(&b.name)));
            ValueType::Enum(out)
        }
        other => {
            return Err(invalid(
                line,
                format!(
                    "unknown type '{other}' (boolean, integer, uint, double, string, octets, character, enum, sublist, pkgdname, none, unknown)"
                ),
            ))
        }
    })
}

/// Finds the target of an entry: by `match`, else by `name` (so applying a profile twice is a
/// no-op). Errors when `match` is given and neither is found.
fn find_target<T>(
    list: &[T],
    is: impl Fn(&T, &str) -> bool,
    matches: Option<&str>,
    name: Option<&str>,
) -> Option<usize> {
    if let Some(m) = matches {
        if let Some(i) = list.iter().position(|x| is(x, m)) {
            return Some(i);
        }
    }
    name.and_then(|n| list.iter().position(|x| is(x, n)))
}

fn apply_package(
    packages: &mut Vec<PackageDef>,
    e: PkgEntry,
    line: usize,
    text: &str,
    origin: &str,
) -> Result<(), ProfileError> {
    let matches = e.matches.as_deref().map(|m| m.to_ascii_lowercase());
    let name = e
        .name
        .as_deref()
        .map(|n| package_name(n, line))
        .transpose()?;
    let target = find_target(
        packages,
        |p, n| p.name == n,
        matches.as_deref(),
        name.as_deref(),
    );
    if matches.is_some() && target.is_none() {
        return Err(invalid(
            line,
            format!(
                "no package '{}' to modify",
                matches.as_deref().unwrap_or_default()
            ),
        ));
    }
    if e.remove {
        let Some(i) = target else {
            return Err(invalid(
                line,
                "'remove' needs 'match' or 'name' of an existing package".to_string(),
            ));
        };
        packages.remove(i);
        return Ok(());
    }
    let idx = match target {
        Some(i) => i,
        None => {
            let Some(n) = name.clone() else {
                return Err(invalid(
                    line,
                    "a package entry needs 'match' or 'name'".to_string(),
                ));
            };
            let Some(id) = e.id else {
                return Err(invalid(line, format!("new package '{n}' needs an 'id'")));
            };
            let id = id16(id, "package ID", false, line)?;
            packages.push(PackageDef::new(&n, id).with_source(origin));
            packages.len() - 1
        }
    };
    let p = &mut packages[idx];
    if let Some(n) = name {
        p.name = n;
    }
    if let Some(id) = e.id {
        p.id = id16(id, "package ID", false, line)?;
    }
    if let Some(v) = e.version {
        p.version = u8::try_from(v)
            .ok()
            .filter(|v| (1..=99).contains(v))
            .ok_or_else(|| invalid(line, format!("version {v} not in 1..=99")))?;
    }
    if let Some(x) = e.extends {
        p.extends = if x.is_empty() {
            None
        } else {
            Some(package_name(&x, line)?)
        };
    }
    if let Some(c) = e.confirmed {
        p.confirmed = c;
    }
    if let Some(s) = e.source {
        p.source = s;
    }
    if let Some(n) = e.note {
        p.note = (!n.is_empty()).then_some(n);
    }
    for item in e.item {
        let iline = line_of(text, item.span().start);
        apply_item(p, item.into_inner(), iline, text)?;
    }
    Ok(())
}

fn apply_item(
    p: &mut PackageDef,
    e: ItemEntry,
    line: usize,
    text: &str,
) -> Result<(), ProfileError> {
    let Some(kind) = ItemKind::parse(&e.kind) else {
        return Err(invalid(
            line,
            format!(
                "unknown item kind '{}' (property, event, signal, statistic)",
                e.kind
            ),
        ));
    };
    let matches = e.matches.as_deref().map(|m| m.to_ascii_lowercase());
    let name = e.name.as_deref().map(|n| item_name(n, line)).transpose()?;
    let target = find_target(
        &p.items,
        |i, n| i.kind == kind && i.name == n,
        matches.as_deref(),
        name.as_deref(),
    );
    if matches.is_some() && target.is_none() {
        return Err(invalid(
            line,
            format!(
                "package '{}' has no {kind} '{}' of its own (items inherited through 'extends' are changed in the base package)",
                p.name,
                matches.as_deref().unwrap_or_default()
            ),
        ));
    }
    if e.remove {
        let Some(i) = target else {
            return Err(invalid(
                line,
                "'remove' needs 'match' or 'name' of an existing item".to_string(),
            ));
        };
        p.items.remove(i);
        return Ok(());
    }
    let vt = build_type(
        &TypeKeys {
            vtype: e.vtype.as_deref(),
            min: e.min,
            max: e.max,
            values: e.values.as_ref(),
            of: e.of.as_deref(),
        },
        line,
    )?;
    let idx = match target {
        Some(i) => i,
        None => {
            let Some(n) = name.clone() else {
                return Err(invalid(
                    line,
                    "an item entry needs 'match' or 'name'".to_string(),
                ));
            };
            let Some(id) = e.id else {
                return Err(invalid(line, format!("new {kind} '{n}' needs an 'id'")));
            };
            let id = id16(id, "item ID", true, line)?;
            p.items.push(ItemDef::new(kind, &n, id));
            p.items.len() - 1
        }
    };
    let item = &mut p.items[idx];
    if let Some(n) = name {
        item.name = n;
    }
    if let Some(id) = e.id {
        item.id = id16(id, "item ID", true, line)?;
    }
    if let Some(vt) = vt {
        item.value_type = vt;
    }
    if let Some(c) = e.confirmed {
        item.confirmed = c;
    }
    if let Some(n) = e.note {
        item.note = (!n.is_empty()).then_some(n);
    }
    for par in e.param {
        let pline = line_of(text, par.span().start);
        apply_param(item, par.into_inner(), pline)?;
    }
    Ok(())
}

fn apply_param(item: &mut ItemDef, e: ParamEntry, line: usize) -> Result<(), ProfileError> {
    let matches = e.matches.as_deref().map(|m| m.to_ascii_lowercase());
    let name = e.name.as_deref().map(|n| item_name(n, line)).transpose()?;
    let target = find_target(
        &item.params,
        |x, n| x.name == n,
        matches.as_deref(),
        name.as_deref(),
    );
    if matches.is_some() && target.is_none() {
        return Err(invalid(
            line,
            format!(
                "{} '{}' has no parameter '{}'",
                item.kind,
                item.name,
                matches.as_deref().unwrap_or_default()
            ),
        ));
    }
    if e.remove {
        let Some(i) = target else {
            return Err(invalid(
                line,
                "'remove' needs 'match' or 'name' of an existing parameter".to_string(),
            ));
        };
        item.params.remove(i);
        return Ok(());
    }
    let vt = build_type(
        &TypeKeys {
            vtype: e.vtype.as_deref(),
            min: e.min,
            max: e.max,
            values: e.values.as_ref(),
            of: e.of.as_deref(),
        },
        line,
    )?;
    let idx = match target {
        Some(i) => i,
        None => {
            let Some(n) = name.clone() else {
                return Err(invalid(
                    line,
                    "a parameter entry needs 'match' or 'name'".to_string(),
                ));
            };
            let Some(id) = e.id else {
                return Err(invalid(line, format!("new parameter '{n}' needs an 'id'")));
            };
            let id = id16(id, "parameter ID", true, line)?;
            item.params.push(ParamDef::new(
                &n,
                id,
                vt.clone().unwrap_or(ValueType::Unknown),
            ));
            item.params.len() - 1
        }
    };
    let par = &mut item.params[idx];
    if let Some(n) = name {
        par.name = n;
    }
    if let Some(id) = e.id {
        par.id = id16(id, "parameter ID", true, line)?;
    }
    if let Some(vt) = vt {
        par.value_type = vt;
    }
    if let Some(c) = e.confirmed {
        par.confirmed = c;
    }
    Ok(())
}
