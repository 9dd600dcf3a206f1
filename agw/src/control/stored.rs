//! Local and Remote descriptors as the control keeps them between commands.
//!
//! A descriptor in the model is a list of property groups, one `PropertyParm` per SDP line:
//! 64 bytes a line, plus a heap copy of every value longer than 24 bytes (before the model held
//! names and values inline it was a `String` and a `Vec<String>`, three allocations and about
//! 160 bytes a line). Four of them (Local and Remote of each termination, 9 to 16 lines each)
//! were the largest part of an idle session's memory in the AGW. [`Stored`] packs the lines'
//! names and values into one string with a table of lengths, and gives the descriptor back,
//! equal to what was stored, when a command reads it. A descriptor that does not have the SDP shape (a property
//! with several values or with a relation other than `=`) is kept as it is.

use iq_codec::model::{LocalRemoteDescriptor, PropertyParm};

/// A stored Local or Remote descriptor. [`Stored::get`] returns what [`Stored::new`] took.
#[derive(Debug, Clone)]
pub(crate) enum Stored {
    /// Every property is `name = value`: names and values back to back in `text`.
    Packed {
        text: Box<str>,
        /// Per property: its group, the length of its name, the length of its value.
        lines: Box<[Line]>,
        /// Number of groups (a group may be empty).
        groups: u16,
    },
    /// Anything else, as given.
    Plain(Box<LocalRemoteDescriptor>),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Line {
    group: u16,
    name: u16,
    value: u32,
}

impl Stored {
    /// Keep `d`.
    pub(crate) fn new(d: &LocalRemoteDescriptor) -> Stored {
        let packable = d.groups.len() <= usize::from(u16::MAX)
            && d.groups.iter().flatten().all(|p| {
                p.extra.is_none()
                    && p.value.len() == 1
                    && p.name.len() <= usize::from(u16::MAX)
                    && u32::try_from(p.value[0].len()).is_ok()
            });
        if !packable {
            return Stored::Plain(Box::new(d.clone()));
        }
        let size: usize = d
            .groups
            .iter()
            .flatten()
            .map(|p| p.name.len() + p.value[0].len())
            .sum();
        let mut text = String::with_capacity(size);
        let mut lines = Vec::with_capacity(d.groups.iter().map(Vec::len).sum());
        for (g, group) in d.groups.iter().enumerate() {
            for p in group {
                text.push_str(&p.name);
                text.push_str(&p.value[0]);
                lines.push(Line {
                    // bounded by the checks above
                    group: g as u16,
                    name: p.name.len() as u16,
                    value: p.value[0].len() as u32,
                });
            }
        }
        Stored::Packed {
            text: text.into_boxed_str(),
            lines: lines.into_boxed_slice(),
            groups: d.groups.len() as u16,
        }
    }

    /// The descriptor, as it was given to [`Stored::new`].
    pub(crate) fn get(&self) -> LocalRemoteDescriptor {
        match self {
            Stored::Plain(d) => (**d).clone(),
            Stored::Packed {
                text,
                lines,
                groups,
            } => {
                let mut out: Vec<Vec<PropertyParm>> = vec![Vec::new(); usize::from(*groups)];
                let mut at = 0usize;
                for l in lines.iter() {
                    let name_end = at + usize::from(l.name);
                    let value_end = name_end + l.value as usize;
                    out[usize::from(l.group)].push(PropertyParm {
                        name: iq_codec::model::Text::from(&text[at..name_end]),
                        value: iq_codec::model::one_value(&text[name_end..value_end]),
                        extra: None,
                    });
                    at = value_end;
                }
                LocalRemoteDescriptor { groups: out }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iq_codec::model::ExtraInfo;
    use iq_codec::sdp::Sdp;

    fn descriptor(sdp: &str) -> LocalRemoteDescriptor {
        let s = Sdp::parse(sdp).expect("SDP parses");
        LocalRemoteDescriptor::from(&s)
    }

    #[test]
    fn sdp_descriptors_come_back_equal_and_packed() {
        let webrtc = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 $\r\nt=0 0\r\n\
                      m=audio $ UDP/TLS/RTP/SAVPF 111 0\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n\
                      a=rtcp-mux\r\na=ice-ufrag:Ab3x\r\na=ice-pwd:0123456789abcdefghijkl\r\n\
                      a=fingerprint:sha-256 $\r\na=setup:actpass\r\n\
                      a=candidate:1 1 udp 2130706431 192.0.2.1 40000 typ host\r\n";
        let d = descriptor(webrtc);
        assert!(d.groups[0].len() > 10);
        let s = Stored::new(&d);
        assert!(matches!(s, Stored::Packed { .. }));
        assert_eq!(s.get(), d);
        // Several groups (alternatives), one of them empty, and an empty value.
        let mut two = d.clone();
        two.groups.push(Vec::new());
        two.groups.push(
            descriptor("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n").groups[0].clone(),
        );
        two.groups[2].push(PropertyParm {
            name: "a".into(),
            value: iq_codec::model::one_value(""),
            extra: None,
        });
        let s = Stored::new(&two);
        assert!(matches!(s, Stored::Packed { groups: 3, .. }));
        assert_eq!(s.get(), two);
        // Nothing at all.
        let empty = LocalRemoteDescriptor { groups: Vec::new() };
        assert_eq!(Stored::new(&empty).get(), empty);
    }

    #[test]
    fn other_shapes_are_kept_as_given() {
        let mut d = descriptor("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n");
        d.groups[0].push(PropertyParm {
            name: "tman/pol".into(),
            value: ["1".into(), "2".into()].into_iter().collect(),
            extra: Some(ExtraInfo::Sublist(false)),
        });
        let s = Stored::new(&d);
        assert!(matches!(s, Stored::Plain(_)));
        assert_eq!(s.get(), d);
    }

    /// The point of it: less memory than the property lists (heap bytes counted by size).
    #[test]
    fn packed_is_smaller() {
        let d = descriptor(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
             m=audio 40000 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-mux\r\n",
        );
        let lines = d.groups[0].len();
        let model: usize = d
            .groups
            .iter()
            .flatten()
            .map(|p| {
                let heap = |t: &iq_codec::model::Text| {
                    if t.is_heap_allocated() {
                        t.capacity()
                    } else {
                        0
                    }
                };
                let spilled = if p.value.spilled() {
                    p.value.capacity() * std::mem::size_of::<iq_codec::model::Text>()
                } else {
                    0
                };
                std::mem::size_of::<PropertyParm>()
                    + heap(&p.name)
                    + spilled
                    + p.value.iter().map(heap).sum::<usize>()
            })
            .sum();
        let Stored::Packed { text, lines: l, .. } = Stored::new(&d) else {
            panic!("not packed");
        };
        let packed = text.len() + l.len() * std::mem::size_of::<Line>();
        assert!(
            packed * 2 < model,
            "{lines} lines: packed {packed} bytes, model {model} bytes"
        );
    }
}
