//! Arrays of any number of dimensions, with NULL elements.

use serde::de::{Error, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::fmt;
use std::marker::PhantomData;

/// A PostgreSQL array: its dimension lengths and its elements in row-major order.
///
/// A column type does not fix the number of dimensions (`integer[]` may hold
/// `{{1,2},{3,4}}`), so one type holds them all. `to_jsonb` writes nested JSON arrays and
/// drops lower bounds, so lower bounds are not kept. The empty array has no dimensions.
///
/// For element types that are themselves JSON arrays (`json[]`, `jsonb[]`), a JSON array
/// element is read as a nested dimension: `to_jsonb` output is ambiguous there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Array<T> {
    dims: Vec<usize>,
    elements: Vec<Option<T>>,
}

impl<T> Default for Array<T> {
    fn default() -> Self {
        Self {
            dims: Vec::new(),
            elements: Vec::new(),
        }
    }
}

impl<T> Array<T> {
    /// An array of the given shape; `None` unless the element count is the product of
    /// `dims` (with no dimension of length zero).
    pub fn new(dims: Vec<usize>, elements: Vec<Option<T>>) -> Option<Self> {
        let empty = dims.is_empty() && elements.is_empty();
        let fits = !dims.is_empty()
            && dims.iter().all(|&d| d > 0)
            && dims.iter().product::<usize>() == elements.len();
        (empty || fits).then_some(Self { dims, elements })
    }

    /// The length of each dimension, outermost first (empty for the empty array).
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The elements in row-major order.
    pub fn elements(&self) -> &[Option<T>] {
        &self.elements
    }

    /// The elements in row-major order, owned.
    pub fn into_elements(self) -> Vec<Option<T>> {
        self.elements
    }
}

impl<T> From<Vec<Option<T>>> for Array<T> {
    /// A one-dimensional array.
    fn from(elements: Vec<Option<T>>) -> Self {
        let dims = if elements.is_empty() {
            Vec::new()
        } else {
            vec![elements.len()]
        };
        Self { dims, elements }
    }
}

/// The most dimensions a PostgreSQL array has (`MAXDIM`). A JSON array nested deeper is
/// an element (of `json[]` / `jsonb[]`) or an error, never another dimension: reading
/// dimensions recursively without a bound would let a deeply nested value overflow the
/// stack.
pub(crate) const MAX_DIMENSIONS: usize = 6;

/// Collects nested JSON arrays into a shape and flat elements, checking that every
/// sub-array of one level has the same length (PostgreSQL arrays are rectangular).
struct Collector<T> {
    dims: Vec<usize>,
    elements: Vec<Option<T>>,
}

impl<T: for<'a> Deserialize<'a>> Collector<T> {
    fn take(&mut self, depth: usize, raw: &RawValue) -> Result<(), String> {
        let text = raw.get();
        if text.starts_with('[') && depth < MAX_DIMENSIONS {
            let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| e.to_string())?;
            self.level(depth, items)
        } else if depth < self.dims.len() {
            Err("array dimensions are not rectangular".to_owned())
        } else if text == "null" {
            self.elements.push(None);
            Ok(())
        } else {
            let value = serde_json::from_str(text).map_err(|e| e.to_string())?;
            self.elements.push(Some(value));
            Ok(())
        }
    }

    fn level(&mut self, depth: usize, items: Vec<&RawValue>) -> Result<(), String> {
        match self.dims.get(depth) {
            Some(&len) if len != items.len() => {
                return Err("array dimensions are not rectangular".to_owned());
            }
            Some(_) => {}
            None if depth == self.dims.len() && self.elements.is_empty() => {
                self.dims.push(items.len());
            }
            None => return Err("array dimensions are not rectangular".to_owned()),
        }
        if items.is_empty() {
            return if depth == 0 {
                Ok(())
            } else {
                Err("empty sub-array".to_owned())
            };
        }
        items
            .into_iter()
            .try_for_each(|item| self.take(depth + 1, item))
    }
}

impl<'de, T: for<'a> Deserialize<'a>> Deserialize<'de> for Array<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: for<'a> Deserialize<'a>> Visitor<'de> for V<T> {
            type Value = Array<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Array<T>, A::Error> {
                // Boxed rather than borrowed so that decoding from a `serde_json::Value`
                // (which has no text to borrow from) works too.
                let mut items: Vec<Box<RawValue>> = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                let mut c = Collector {
                    dims: Vec::new(),
                    elements: Vec::new(),
                };
                c.level(0, items.iter().map(AsRef::as_ref).collect())
                    .map_err(A::Error::custom)?;
                if c.elements.is_empty() {
                    c.dims.clear();
                }
                Ok(Array {
                    dims: c.dims,
                    elements: c.elements,
                })
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

impl<T: Serialize> Serialize for Array<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        fn nested<T: Serialize>(dims: &[usize], items: &[Option<T>]) -> serde_json::Value {
            match dims.split_first() {
                None => serde_json::Value::Array(Vec::new()),
                Some((_, [])) => serde_json::to_value(items).unwrap_or_default(),
                Some((&len, rest)) => {
                    let chunk = items.len() / len.max(1);
                    serde_json::Value::Array(
                        items
                            .chunks(chunk.max(1))
                            .map(|c| nested(rest, c))
                            .collect(),
                    )
                }
            }
        }
        nested(&self.dims, &self.elements).serialize(s)
    }
}

#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
impl<'a, T: postgres_types::FromSql<'a>> postgres_types::FromSql<'a> for Array<T> {
    /// Binary form: ndim, has-null flag, element OID, (length, lower bound) per
    /// dimension, then each element as a length (-1 for NULL) and its bytes.
    fn from_sql(ty: &postgres_types::Type, raw: &'a [u8]) -> Result<Self, super::BoxError> {
        let postgres_types::Kind::Array(member) = ty.kind() else {
            return Err("not an array type".into());
        };
        let mut at = 0usize;
        fn int(raw: &[u8], at: &mut usize) -> Result<i32, super::BoxError> {
            let bytes = raw.get(*at..*at + 4).ok_or("truncated array")?;
            *at += 4;
            Ok(i32::from_be_bytes(bytes.try_into()?))
        }
        let ndim = int(raw, &mut at)?;
        let _has_nulls = int(raw, &mut at)?;
        let _oid = int(raw, &mut at)?;
        let mut dims = Vec::new();
        for _ in 0..ndim {
            dims.push(usize::try_from(int(raw, &mut at)?)?);
            let _lower_bound = int(raw, &mut at)?;
        }
        let count: usize = if dims.is_empty() {
            0
        } else {
            dims.iter()
                .try_fold(1usize, |n, &d| n.checked_mul(d))
                .ok_or("array dimensions overflow")?
        };
        // Every element takes at least its 4-byte length: a count the data cannot hold
        // must not reserve memory for it.
        let mut elements = Vec::with_capacity(count.min(raw.len().saturating_sub(at) / 4));
        for _ in 0..count {
            let len = int(raw, &mut at)?;
            if len < 0 {
                elements.push(None);
            } else {
                let len = len as usize;
                let bytes = raw.get(at..at + len).ok_or("truncated array element")?;
                at += len;
                elements.push(Some(T::from_sql(member, bytes)?));
            }
        }
        Ok(Self { dims, elements })
    }

    fn accepts(ty: &postgres_types::Type) -> bool {
        match ty.kind() {
            postgres_types::Kind::Array(member) => T::accepts(member),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Array;

    #[test]
    fn nested_with_nulls() {
        let a: Array<i32> = serde_json::from_str("[[1, null], [3, 4]]").unwrap();
        assert_eq!(a.dims(), &[2, 2]);
        assert_eq!(a.elements(), &[Some(1), None, Some(3), Some(4)]);
        assert_eq!(serde_json::to_string(&a).unwrap(), "[[1,null],[3,4]]");
        let e: Array<i32> = serde_json::from_str("[]").unwrap();
        assert_eq!(e, Array::default());
        assert!(serde_json::from_str::<Array<i32>>("[[1], [2, 3]]").is_err());
        assert!(serde_json::from_str::<Array<i32>>("[[1], 2]").is_err());
        assert!(serde_json::from_str::<Array<i32>>("[1, [2]]").is_err());
        assert!(serde_json::from_str::<Array<i32>>("[\"x\"]").is_err());
        let s: Array<String> = serde_json::from_str(r#"["a", null]"#).unwrap();
        assert_eq!(s, Array::from(vec![Some("a".to_owned()), None]));
    }

    #[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
    #[test]
    fn binary_headers_that_overflow_or_overstate_are_errors() {
        use postgres_types::{FromSql, Type};
        let header = |ints: &[i32]| {
            ints.iter()
                .flat_map(|i| i.to_be_bytes())
                .collect::<Vec<u8>>()
        };
        let max = i32::MAX;
        // Three dimensions of i32::MAX elements: the count overflows usize.
        let overflow = header(&[3, 0, 23, max, 1, max, 1, max, 1]);
        assert!(Array::<i32>::from_sql(&Type::INT4_ARRAY, &overflow).is_err());
        // Two billion elements announced, none sent.
        let overstated = header(&[1, 0, 25, max, 1]);
        assert!(Array::<String>::from_sql(&Type::TEXT_ARRAY, &overstated).is_err());
    }

    #[test]
    fn dimensions_stop_at_postgres_maximum() {
        let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let six: Array<i32> = serde_json::from_str(&nested(6)).unwrap();
        assert_eq!(six.dims(), &[1; 6]);
        assert!(serde_json::from_str::<Array<i32>>(&nested(7)).is_err());
        // Deeper arrays are elements of json arrays (serde_json bounds their depth).
        let json: Array<serde_json::Value> = serde_json::from_str(&nested(8)).unwrap();
        assert_eq!(json.dims(), &[1; 6]);
        assert_eq!(json.elements(), &[Some(serde_json::json!([[1]]))]);
        // No stack overflow, and no quadratic re-reading, however deep the input.
        let start = std::time::Instant::now();
        assert!(serde_json::from_str::<Array<i32>>(&nested(200_000)).is_err());
        assert!(serde_json::from_str::<Array<serde_json::Value>>(&nested(200_000)).is_err());
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }
}
