//! Property-test inputs for fuzzing what takes partner input (intake, the gateway): arbitrary
//! JSON shaped like what senders get wrong, and the example notice with one thing changed.

use proptest::prelude::*;
use serde_json::Value;

/// Arbitrary JSON, with leaves that look like BSNs, gemeentecodes and dates.
pub fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        "[0-9]{9}".prop_map(Value::from),
        "GM[0-9]{4}".prop_map(Value::from),
        "(18|19|20|30)[0-9]{2}-[01][0-9]-[0-3][0-9]".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every path to a value in `v`, as JSON pointers.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, c)| pointers(c, format!("{at}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| pointers(c, format!("{at}/{i}"), out)),
        _ => {}
    }
    out.push(at);
}

/// The example notice with one thing changed: a value replaced, a field removed or one added.
pub fn mutated_notice() -> impl Strategy<Value = Value> {
    let example = rcn_contracts::examples::release_notice_json();
    let mut paths = Vec::new();
    pointers(&example, String::new(), &mut paths);
    paths.retain(|p| !p.is_empty());
    (
        proptest::sample::select(paths),
        0..3u8,
        any_json(),
        "[a-z_]{1,10}",
    )
        .prop_map(move |(path, how, value, key)| {
            let mut n = rcn_contracts::examples::release_notice_json();
            match how {
                0 => *n.pointer_mut(&path).expect("a path of the example") = value,
                1 => {
                    let (parent, field) = path.rsplit_once('/').expect("not the root");
                    // The empty pointer is the whole notice.
                    match n.pointer_mut(parent) {
                        Some(Value::Object(m)) => {
                            m.remove(field);
                        }
                        Some(Value::Array(a)) if !a.is_empty() => {
                            a.remove(0);
                        }
                        _ => {}
                    }
                }
                _ => {
                    if let Some(Value::Object(m)) = n.pointer_mut(&path) {
                        m.insert(key, value);
                    } else {
                        n[key] = value;
                    }
                }
            }
            n
        })
}
