//! SDP <-> the H.248 model: a property group (one session description, each line a
//! `PropertyParm` named by the line type with the rest of the line as its single value) and a
//! whole Local/Remote descriptor (the groups = alternatives).

use super::{Eol, Parsed, Sdp, SdpError};
use crate::model::{one_value, LocalRemoteDescriptor, PropertyParm, Text};

impl Sdp {
    /// Read one H.248 property group (as the text parser builds it from a Local/Remote
    /// descriptor, or the binary decoder from Annex C SDP properties). Line ends become LF, the
    /// H.248 text layout. Errors name the property's 1-based position as the line.
    pub fn from_group(group: &[PropertyParm]) -> Result<Sdp, SdpError> {
        let mut all = Sdp::build_all(parsed(group, 0)?)?;
        if all.len() > 1 {
            let line = all[1].lines().next().and_then(|l| l.line_no()).unwrap_or(0);
            return Err(SdpError::MultipleSessions { line });
        }
        all.pop().ok_or(SdpError::Empty)
    }

    /// This session description as one H.248 property group: one `PropertyParm` per line, named
    /// by the line type, with the rest of the line as its single value.
    pub fn to_group(&self) -> Vec<PropertyParm> {
        self.lines()
            .map(|l| PropertyParm {
                name: Text::from(&*l.kind().encode_utf8(&mut [0; 4])),
                value: one_value(l.value()),
                extra: None,
            })
            .collect()
    }

    /// Read every property group of a Local/Remote descriptor (in order; an empty descriptor
    /// gives none). Line numbers in errors count the lines of all groups, as in the text form.
    pub fn from_descriptor(d: &LocalRemoteDescriptor) -> Result<Vec<Sdp>, SdpError> {
        let mut out = Vec::with_capacity(d.groups.len());
        let mut offset = 0;
        for g in &d.groups {
            let mut all = Sdp::build_all(parsed(g, offset)?)?;
            if all.len() > 1 {
                let line = all[1].lines().next().and_then(|l| l.line_no()).unwrap_or(0);
                return Err(SdpError::MultipleSessions { line });
            }
            match all.pop() {
                Some(s) => out.push(s),
                None => {
                    return Err(SdpError::Syntax {
                        line: Some(offset + 1),
                        msg: "empty property group".into(),
                    })
                }
            }
            offset += g.len();
        }
        Ok(out)
    }

    /// A Local/Remote descriptor with one property group per session description.
    pub fn to_descriptor(sdps: &[Sdp]) -> LocalRemoteDescriptor {
        LocalRemoteDescriptor {
            groups: sdps.iter().map(Sdp::to_group).collect(),
        }
    }
}

impl From<&[Sdp]> for LocalRemoteDescriptor {
    fn from(sdps: &[Sdp]) -> Self {
        Sdp::to_descriptor(sdps)
    }
}

impl From<&Sdp> for LocalRemoteDescriptor {
    fn from(sdp: &Sdp) -> Self {
        Sdp::to_descriptor(std::slice::from_ref(sdp))
    }
}

impl TryFrom<&LocalRemoteDescriptor> for Vec<Sdp> {
    type Error = SdpError;
    fn try_from(d: &LocalRemoteDescriptor) -> Result<Self, SdpError> {
        Sdp::from_descriptor(d)
    }
}

fn parsed(group: &[PropertyParm], offset: usize) -> Result<Vec<Parsed>, SdpError> {
    group
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let no = offset + i + 1;
            let err = |msg: String| SdpError::Syntax {
                line: Some(no),
                msg,
            };
            let mut ch = p.name.chars();
            let kind = match (ch.next(), ch.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(err(format!(
                        "property '{}' is not an SDP line type (one letter)",
                        p.name
                    )))
                }
            };
            if p.extra.is_some() {
                return Err(err(format!(
                    "SDP property '{}' has a list/range/relation value",
                    p.name
                )));
            }
            let [value] = &p.value[..] else {
                return Err(err(format!(
                    "SDP property '{}' has {} values, expected 1",
                    p.name,
                    p.value.len()
                )));
            };
            Ok(Parsed {
                kind,
                value: value.to_string(),
                eol: Some(Eol::Lf),
                no,
            })
        })
        .collect()
}
