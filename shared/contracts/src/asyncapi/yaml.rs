//! Just enough YAML to write the AsyncAPI document: block maps in a fixed key order, scalars
//! quoted whenever a plain one could be misread, and multi-line text as `|` blocks. It only
//! writes; nothing here reads YAML.

/// A node of the document. Keys keep the order they were given in.
#[derive(Debug, Clone)]
pub enum Node {
    /// Inline text, written as is: a quoted scalar or a flow collection.
    Inline(String),
    /// Text of several lines, written as a literal block.
    Text(String),
    Map(Vec<(String, Node)>),
}

/// A scalar string, quoted only when a plain scalar could be read as something else.
pub fn string(s: &str) -> Node {
    Node::Inline(scalar(s))
}

/// A string that may span lines.
pub fn text(s: &str) -> Node {
    if s.contains('\n') {
        Node::Text(s.trim_end().to_owned())
    } else {
        string(s)
    }
}

/// `{$ref: '…'}`: single-quoted, as references are written by hand.
pub fn reference(target: &str) -> Node {
    assert!(
        !target.contains('\'') && !target.contains('\n'),
        "a reference is a plain path"
    );
    Node::Inline(format!("{{$ref: '{target}'}}"))
}

/// A block map from `(key, node)` pairs.
pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Node)>) -> Node {
    Node::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

fn scalar(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            // Braces are plain text in block context (addresses such as rcn.{region}.x).
            .all(|c| c.is_alphanumeric() || " ._/()-,;<>+={}".contains(c))
        && !s.ends_with(' ')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "yes" | "no" | "true" | "false" | "null" | "on" | "off" | "y" | "n"
        );
    if plain { s.to_owned() } else { quoted(s) }
}

/// A double-quoted scalar: JSON's escapes are valid YAML.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// The document as YAML text.
pub fn render(root: &Node) -> String {
    let mut out = String::new();
    if let Node::Map(entries) = root {
        write_map(&mut out, entries, 0);
    }
    out
}

fn write_map(out: &mut String, entries: &[(String, Node)], indent: usize) {
    let pad = " ".repeat(indent);
    for (key, node) in entries {
        let key = if key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            key.clone()
        } else {
            quoted(key)
        };
        match node {
            Node::Inline(v) => out.push_str(&format!("{pad}{key}: {v}\n")),
            Node::Text(t) => {
                out.push_str(&format!("{pad}{key}: |\n"));
                for line in t.lines() {
                    if line.is_empty() {
                        out.push('\n');
                    } else {
                        out.push_str(&format!("{pad}  {line}\n"));
                    }
                }
            }
            Node::Map(children) if children.is_empty() => {
                out.push_str(&format!("{pad}{key}: {{}}\n"));
            }
            Node::Map(children) => {
                out.push_str(&format!("{pad}{key}:\n"));
                write_map(out, children, indent + 2);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_that_could_be_misread_are_quoted() {
        assert_eq!(
            scalar("Stream CASES, kept 90 days"),
            "Stream CASES, kept 90 days"
        );
        assert_eq!(scalar("rcn.{region}.x"), "rcn.{region}.x");
        for tricky in ["yes", "a: b", "#x", "{x}", "3", "", "x #y", "- a", "é"] {
            assert!(scalar(tricky).starts_with('"'), "{tricky}");
        }
    }

    #[test]
    fn maps_nest_and_text_becomes_a_block() {
        let doc = map([
            ("a", string("b")),
            (
                "c",
                map([
                    ("d", reference("#/x")),
                    ("e", map(Vec::<(String, Node)>::new())),
                ]),
            ),
            ("f", text("one\n\ntwo\n")),
        ]);
        assert_eq!(
            render(&doc),
            "a: b\nc:\n  d: {$ref: '#/x'}\n  e: {}\nf: |\n  one\n\n  two\n"
        );
    }
}
