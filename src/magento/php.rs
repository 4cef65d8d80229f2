//! A small, safe reader for PHP's `serialize()` format.
//!
//! Magento 1 stores an order item's `product_options` (configurable choice, custom options, the
//! add-to-cart request) as a PHP-serialized string and the API passes it through untouched
//! (`a:1:{s:15:"info_buyRequest";a:2:{…}}`). This module parses that text into a plain value
//! tree. It never instantiates anything: objects become their class name plus properties,
//! references become nulls. Input sizes are checked before any allocation and nesting is
//! bounded, so hostile input gives an error, never a panic or a huge allocation.
//!
//! No I/O here and no knowledge of Magento's keys (see `magento1::parse` for that).

use std::fmt;

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 64;

/// A key of a PHP array.
#[derive(Debug, Clone, PartialEq)]
pub enum PhpKey {
    /// Integer key.
    Int(i64),
    /// String key.
    Str(String),
}

impl fmt::Display for PhpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhpKey::Int(i) => write!(f, "{i}"),
            PhpKey::Str(s) => f.write_str(s),
        }
    }
}

/// A PHP value.
#[derive(Debug, Clone, PartialEq)]
pub enum PhpValue {
    /// `null` (also used for references `r:`/`R:`).
    Null,
    /// Boolean.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// Float.
    Float(f64),
    /// String (invalid UTF-8 is replaced).
    Str(String),
    /// Array (ordered map).
    Array(Vec<(PhpKey, PhpValue)>),
    /// Object: class name and properties (visibility prefixes removed). Custom-serialized
    /// objects (`C:`) carry their payload as a single `""` string property.
    Object {
        /// Class name.
        class: String,
        /// Properties.
        props: Vec<(PhpKey, PhpValue)>,
    },
}

/// Why a serialized string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid PHP-serialized data at byte {offset}: {reason}")]
pub struct PhpError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What was wrong.
    pub reason: String,
}

impl PhpValue {
    /// Member of an array or object by string key (integer keys match their decimal text).
    pub fn get(&self, key: &str) -> Option<&PhpValue> {
        let entries = match self {
            PhpValue::Array(e) => e,
            PhpValue::Object { props, .. } => props,
            _ => return None,
        };
        entries.iter().find_map(|(k, v)| {
            let hit = match k {
                PhpKey::Str(s) => s == key,
                PhpKey::Int(i) => key.parse::<i64>().ok() == Some(*i),
            };
            hit.then_some(v)
        })
    }

    /// Entries of an array or object (empty for scalars).
    pub fn entries(&self) -> &[(PhpKey, PhpValue)] {
        match self {
            PhpValue::Array(e) => e,
            PhpValue::Object { props, .. } => props,
            _ => &[],
        }
    }

    /// Text of a scalar (`null` and arrays give `None`; numbers are rendered).
    pub fn as_text(&self) -> Option<String> {
        match self {
            PhpValue::Str(s) => Some(s.clone()),
            PhpValue::Int(i) => Some(i.to_string()),
            PhpValue::Float(f) => Some(f.to_string()),
            PhpValue::Bool(b) => Some(if *b { "1".into() } else { String::new() }),
            _ => None,
        }
    }

    /// Converts to JSON: list-like arrays (keys `0..n-1`) become JSON arrays, other arrays and
    /// objects become JSON objects (objects get a `__class` member), non-finite floats become
    /// strings.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            PhpValue::Null => J::Null,
            PhpValue::Bool(b) => J::Bool(*b),
            PhpValue::Int(i) => J::from(*i),
            PhpValue::Float(f) => serde_json::Number::from_f64(*f).map_or_else(|| J::String(f.to_string()), J::Number),
            PhpValue::Str(s) => J::String(s.clone()),
            PhpValue::Array(entries) => {
                let is_list = entries
                    .iter()
                    .enumerate()
                    .all(|(i, (k, _))| matches!(k, PhpKey::Int(n) if usize::try_from(*n).ok() == Some(i)));
                if is_list {
                    J::Array(entries.iter().map(|(_, v)| v.to_json()).collect())
                } else {
                    J::Object(entries.iter().map(|(k, v)| (k.to_string(), v.to_json())).collect())
                }
            }
            PhpValue::Object { class, props } => {
                let mut m: serde_json::Map<String, J> =
                    props.iter().map(|(k, v)| (k.to_string(), v.to_json())).collect();
                m.insert("__class".into(), J::String(class.clone()));
                J::Object(m)
            }
        }
    }
}

/// Parses one serialized value; trailing bytes other than whitespace are an error.
pub fn unserialize(input: &str) -> Result<PhpValue, PhpError> {
    let mut p = Parser { b: input.as_bytes(), pos: 0 };
    let v = p.value(0)?;
    while p.pos < p.b.len() && p.b[p.pos].is_ascii_whitespace() {
        p.pos += 1;
    }
    if p.pos != p.b.len() {
        return Err(p.err("trailing data after the value"));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, reason: impl Into<String>) -> PhpError {
        PhpError { offset: self.pos, reason: reason.into() }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), PhpError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(format!("expected '{}'", c as char)))
        }
    }

    /// Bytes up to (not including) `end`, consuming `end`.
    fn until(&mut self, end: u8) -> Result<&[u8], PhpError> {
        let start = self.pos;
        let rel = self.b[start..]
            .iter()
            .position(|&c| c == end)
            .ok_or_else(|| self.err(format!("missing '{}'", end as char)))?;
        self.pos = start + rel + 1;
        Ok(&self.b[start..start + rel])
    }

    fn int_until(&mut self, end: u8) -> Result<i64, PhpError> {
        let at = self.pos;
        let raw = self.until(end)?;
        std::str::from_utf8(raw)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .ok_or(PhpError { offset: at, reason: "expected an integer".into() })
    }

    fn len_until(&mut self, end: u8) -> Result<usize, PhpError> {
        let at = self.pos;
        let n = self.int_until(end)?;
        usize::try_from(n).map_err(|_| PhpError { offset: at, reason: "negative length".into() })
    }

    /// `N:"bytes"` (quoted, length in bytes), returning the bytes.
    fn quoted(&mut self, len: usize) -> Result<&[u8], PhpError> {
        self.expect(b'"')?;
        let start = self.pos;
        let end = start
            .checked_add(len)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| self.err("string length runs past the end"))?;
        self.pos = end;
        self.expect(b'"')?;
        Ok(&self.b[start..end])
    }

    fn value(&mut self, depth: usize) -> Result<PhpValue, PhpError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        let tag = self.peek().ok_or_else(|| self.err("unexpected end"))?;
        self.pos += 1;
        match tag {
            b'N' => {
                self.expect(b';')?;
                Ok(PhpValue::Null)
            }
            b'b' => {
                self.expect(b':')?;
                match self.int_until(b';')? {
                    0 => Ok(PhpValue::Bool(false)),
                    1 => Ok(PhpValue::Bool(true)),
                    _ => Err(self.err("boolean must be 0 or 1")),
                }
            }
            b'i' => {
                self.expect(b':')?;
                Ok(PhpValue::Int(self.int_until(b';')?))
            }
            b'd' => {
                self.expect(b':')?;
                let at = self.pos;
                let raw = self.until(b';')?;
                let text = std::str::from_utf8(raw).unwrap_or("");
                let f = match text {
                    "INF" => f64::INFINITY,
                    "-INF" => f64::NEG_INFINITY,
                    "NAN" => f64::NAN,
                    t => t.parse::<f64>().map_err(|_| PhpError { offset: at, reason: "expected a float".into() })?,
                };
                Ok(PhpValue::Float(f))
            }
            b's' => {
                self.expect(b':')?;
                let len = self.len_until(b':')?;
                let bytes = self.quoted(len)?;
                let s = String::from_utf8_lossy(bytes).into_owned();
                self.expect(b';')?;
                Ok(PhpValue::Str(s))
            }
            b'a' => {
                self.expect(b':')?;
                let n = self.len_until(b':')?;
                let entries = self.entries(n, depth)?;
                Ok(PhpValue::Array(entries))
            }
            b'O' => {
                self.expect(b':')?;
                let len = self.len_until(b':')?;
                let class = String::from_utf8_lossy(self.quoted(len)?).into_owned();
                self.expect(b':')?;
                let n = self.len_until(b':')?;
                let props = self
                    .entries(n, depth)?
                    .into_iter()
                    .map(|(k, v)| match k {
                        PhpKey::Str(s) => (PhpKey::Str(strip_visibility(&s)), v),
                        other => (other, v),
                    })
                    .collect();
                Ok(PhpValue::Object { class, props })
            }
            b'C' => {
                self.expect(b':')?;
                let len = self.len_until(b':')?;
                let class = String::from_utf8_lossy(self.quoted(len)?).into_owned();
                self.expect(b':')?;
                let n = self.len_until(b':')?;
                self.expect(b'{')?;
                let start = self.pos;
                let end = start
                    .checked_add(n)
                    .filter(|&e| e <= self.b.len())
                    .ok_or_else(|| self.err("payload runs past the end"))?;
                self.pos = end;
                self.expect(b'}')?;
                let data = String::from_utf8_lossy(&self.b[start..end]).into_owned();
                Ok(PhpValue::Object { class, props: vec![(PhpKey::Str(String::new()), PhpValue::Str(data))] })
            }
            b'E' => {
                self.expect(b':')?;
                let len = self.len_until(b':')?;
                let name = String::from_utf8_lossy(self.quoted(len)?).into_owned();
                self.expect(b';')?;
                Ok(PhpValue::Str(name))
            }
            b'r' | b'R' => {
                self.expect(b':')?;
                self.int_until(b';')?;
                Ok(PhpValue::Null)
            }
            other => {
                self.pos -= 1;
                Err(self.err(format!("unknown type tag '{}'", char::from(other).escape_default())))
            }
        }
    }

    fn entries(&mut self, n: usize, depth: usize) -> Result<Vec<(PhpKey, PhpValue)>, PhpError> {
        // Each entry needs at least 8 bytes ("i:0;N;" plus braces): refuse counts the input
        // cannot hold before allocating anything.
        if n > self.b.len().saturating_sub(self.pos) / 4 {
            return Err(self.err("element count larger than the input"));
        }
        self.expect(b'{')?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let key = match self.value(depth + 1)? {
                PhpValue::Int(i) => PhpKey::Int(i),
                PhpValue::Str(s) => PhpKey::Str(s),
                _ => return Err(self.err("array keys must be integers or strings")),
            };
            let v = self.value(depth + 1)?;
            out.push((key, v));
        }
        self.expect(b'}')?;
        Ok(out)
    }
}

/// Removes PHP's property visibility prefixes (`\0*\0name`, `\0Class\0name`).
fn strip_visibility(name: &str) -> String {
    if let Some(rest) = name.strip_prefix('\0')
        && let Some(i) = rest.find('\0')
    {
        return rest[i + 1..].to_owned();
    }
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_configurable_item_options_string() {
        let s = r#"a:6:{s:15:"info_buyRequest";a:3:{s:10:"product_id";i:19;s:3:"qty";i:2;s:15:"super_attribute";a:2:{i:94;i:4;i:134;i:9;}}s:15:"attributes_info";a:2:{i:0;a:2:{s:5:"label";s:5:"Color";s:5:"value";s:4:"Blue";}i:1;a:2:{s:5:"label";s:4:"Size";s:5:"value";s:1:"L";}}s:11:"simple_name";s:22:"Classic T-Shirt Blue L";s:10:"simple_sku";s:17:"CLO-TSHIRT-BLUE-L";s:20:"product_calculations";i:1;s:13:"shipment_type";i:0;}"#;
        let v = unserialize(s).unwrap();
        assert_eq!(v.get("simple_sku"), Some(&PhpValue::Str("CLO-TSHIRT-BLUE-L".into())));
        let br = v.get("info_buyRequest").unwrap();
        assert_eq!(br.get("qty"), Some(&PhpValue::Int(2)));
        assert_eq!(br.get("super_attribute").unwrap().get("94"), Some(&PhpValue::Int(4)));
        let json = br.to_json();
        assert_eq!(json["super_attribute"]["134"], serde_json::json!(9));
        let info = v.get("attributes_info").unwrap().to_json();
        assert_eq!(info, serde_json::json!([{"label": "Color", "value": "Blue"}, {"label": "Size", "value": "L"}]));
    }

    #[test]
    fn string_lengths_are_bytes_not_characters() {
        let v = unserialize("s:7:\"Núñez\";").unwrap();
        assert_eq!(v, PhpValue::Str("Núñez".into()));
        assert!(unserialize("s:5:\"Núñez\";").is_err());
    }

    #[test]
    fn scalars_floats_objects_and_references() {
        assert_eq!(unserialize("N;").unwrap(), PhpValue::Null);
        assert_eq!(unserialize("b:1;").unwrap(), PhpValue::Bool(true));
        assert_eq!(unserialize("i:-42;").unwrap(), PhpValue::Int(-42));
        assert_eq!(unserialize("d:0.5;").unwrap(), PhpValue::Float(0.5));
        assert!(matches!(unserialize("d:INF;").unwrap(), PhpValue::Float(f) if f.is_infinite()));
        let o = unserialize("O:8:\"stdClass\":2:{s:1:\"a\";i:1;s:4:\"\0*\0b\";r:1;}").unwrap();
        assert_eq!(o.get("a"), Some(&PhpValue::Int(1)));
        assert_eq!(o.get("b"), Some(&PhpValue::Null));
        assert_eq!(o.to_json()["__class"], serde_json::json!("stdClass"));
        let c = unserialize("C:11:\"ArrayObject\":4:{x:i0}").unwrap();
        assert!(matches!(c, PhpValue::Object { ref class, .. } if class == "ArrayObject"));
        assert_eq!(unserialize("a:0:{}").unwrap().to_json(), serde_json::json!([]));
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        for bad in [
            "",
            "a:999999999:{}",
            "s:99999999999999999999:\"x\";",
            "s:-1:\"\";",
            "s:3:\"ab\";",
            "a:1:{a:0:{}i:1;}",
            "i:1;extra",
            "x:1;",
            "b:2;",
            "O:3:\"Foo\":1:{",
            "C:3:\"Foo\":99:{x}",
        ] {
            assert!(unserialize(bad).is_err(), "{bad:?}");
        }
        let deep = format!("{}N;{}", "a:1:{i:0;".repeat(100), "}".repeat(100));
        let e = unserialize(&deep).unwrap_err();
        assert!(e.reason.contains("deep"), "{e}");
    }
}
