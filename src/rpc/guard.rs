//! Cheap checks on a raw XML-RPC request body before it reaches the XML parser.
//!
//! The parser must never see a document that could make it blow up: DOCTYPE and entity
//! declarations (billion laughs, external entities) are refused, and element nesting is bounded
//! so a deeply nested request cannot exhaust the stack of the recursive decoder. The body size
//! limit is enforced while the body is read (see `dispatch`).

/// Why a request body was refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// No body at all (or only whitespace).
    #[error("empty request body")]
    Empty,
    /// Body larger than the configured limit.
    #[error("request body larger than {limit} bytes")]
    TooLarge {
        /// Configured limit in bytes.
        limit: usize,
    },
    /// Body is not valid UTF-8.
    #[error("request body is not valid UTF-8")]
    NotUtf8,
    /// A DOCTYPE, ENTITY or other markup declaration was found.
    #[error("DOCTYPE and entity declarations are not allowed")]
    Doctype,
    /// Elements nested deeper than the configured limit.
    #[error("XML nested deeper than {limit} elements")]
    TooDeep {
        /// Configured limit.
        limit: usize,
    },
    /// Not well-formed XML (unterminated comment or tag seen by the scanner).
    #[error("request is not well-formed XML")]
    Malformed,
}

/// Checks `body` and returns it as text when it may be handed to the XML parser.
pub fn check(body: &[u8], max_depth: usize) -> Result<&str, Rejection> {
    let text = std::str::from_utf8(body).map_err(|_| Rejection::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(Rejection::Empty);
    }
    scan(text.as_bytes(), max_depth)?;
    Ok(text)
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

fn scan(b: &[u8], max_depth: usize) -> Result<(), Rejection> {
    let mut depth = 0usize;
    let mut i = 0usize;
    while let Some(off) = b.get(i..).and_then(|s| s.iter().position(|&c| c == b'<')) {
        i += off;
        match b.get(i + 1) {
            Some(b'?') => {
                i = find(b, i + 2, b"?>").ok_or(Rejection::Malformed)? + 2;
            }
            Some(b'!') => {
                if b[i..].starts_with(b"<!--") {
                    i = find(b, i + 4, b"-->").ok_or(Rejection::Malformed)? + 3;
                } else if b[i..].starts_with(b"<![CDATA[") {
                    i = find(b, i + 9, b"]]>").ok_or(Rejection::Malformed)? + 3;
                } else {
                    return Err(Rejection::Doctype);
                }
            }
            Some(b'/') => {
                depth = depth.saturating_sub(1);
                i = find(b, i + 2, b">").ok_or(Rejection::Malformed)? + 1;
            }
            Some(_) => {
                let end = tag_end(b, i + 1).ok_or(Rejection::Malformed)?;
                if b[end - 1] != b'/' {
                    depth += 1;
                    if depth > max_depth {
                        return Err(Rejection::TooDeep { limit: max_depth });
                    }
                }
                i = end + 1;
            }
            None => return Err(Rejection::Malformed),
        }
    }
    Ok(())
}

/// Index of the `>` closing the start tag that begins at `from`, skipping quoted attributes.
fn tag_end(b: &[u8], from: usize) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (k, &c) in b.get(from..)?.iter().enumerate() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'>') => return Some(from + k),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALL: &str = "<?xml version='1.0'?>\n<methodCall><methodName>a</methodName><params><param><value><string>x</string></value></param></params></methodCall>";

    #[test]
    fn a_plain_call_passes() {
        assert_eq!(check(CALL.as_bytes(), 32).unwrap(), CALL);
    }

    #[test]
    fn doctype_and_entities_are_refused() {
        let body = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><methodCall/>";
        assert_eq!(check(body.as_bytes(), 32), Err(Rejection::Doctype));
        let body = "<methodCall><!ENTITY a \"b\"></methodCall>";
        assert_eq!(check(body.as_bytes(), 32), Err(Rejection::Doctype));
    }

    #[test]
    fn comments_and_cdata_are_skipped() {
        let body = "<methodCall><!-- <<<< --><methodName><![CDATA[<a>]]></methodName></methodCall>";
        assert!(check(body.as_bytes(), 3).is_ok());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("{}{}", "<value><array><data>".repeat(50), "</data></array></value>".repeat(50));
        assert_eq!(check(deep.as_bytes(), 64), Err(Rejection::TooDeep { limit: 64 }));
        assert!(check(deep.as_bytes(), 200).is_ok());
    }

    #[test]
    fn self_closing_tags_do_not_count() {
        let body = format!("<a>{}</a>", "<nil/>".repeat(100));
        assert!(check(body.as_bytes(), 1).is_ok());
    }

    #[test]
    fn empty_non_utf8_and_truncated_bodies_are_refused() {
        assert_eq!(check(b"", 8), Err(Rejection::Empty));
        assert_eq!(check(b"  \n", 8), Err(Rejection::Empty));
        assert_eq!(check(&[0xff, 0xfe, 0x3c], 8), Err(Rejection::NotUtf8));
        assert_eq!(check(b"<methodCall", 8), Err(Rejection::Malformed));
        assert_eq!(check(b"<!-- open", 8), Err(Rejection::Malformed));
    }

    #[test]
    fn quoted_greater_than_in_attributes_is_not_a_tag_end() {
        assert!(check(b"<a x='>'><b/></a>", 1).is_ok());
    }
}
