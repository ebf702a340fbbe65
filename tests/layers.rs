//! The crate's modules import only downwards: each top-level module of `src/` uses
//! `crate::` paths only to modules of a lower layer (the README's "Layers" table), so there
//! is no import cycle of logic. The one exception: `error` names the vocabulary types of
//! `NAMED_BY_ERROR` (its variants carry them), and only those paths. Doc comments and the `#[cfg(test)] mod tests` blocks (which may
//! build what they test with a higher layer) are not counted.

use std::collections::BTreeMap;
use std::path::Path;

/// Bottom to top. Modules of one layer do not import each other either.
const LAYERS: &[&[&str]] = &[
    &["error", "oids", "limits"],
    &["types", "ber", "asn1"],
    &["pipeline"],
    &["attributes", "csr"],
    &["cert"],
    &["message"],
    &["caps"],
    &["http"],
    &["client", "server"],
    // The fuzz targets' entry points drive everything.
    &["internal"],
];

/// The vocabulary of higher layers that the one error type names (as rustls's `Error`
/// names its enums): `error` may import exactly these types, and no logic.
const NAMED_BY_ERROR: &[&str] = &[
    "caps::Capability",
    "pipeline::DigestAlgorithm",
    "types::FailInfo",
    "types::MessageType",
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("module {module} is in no layer of tests/layers.rs"))
}

/// The top-level modules each top-level module imports, from its code.
fn imports() -> BTreeMap<String, BTreeMap<String, String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap();
            let top = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_str()
                .unwrap()
                .trim_end_matches(".rs")
                .to_owned();
            if top == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = match text.find("#[cfg(test)]\nmod tests") {
                Some(i) => &text[..i],
                None => &text[..],
            };
            for (n, line) in code.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                for (i, _) in line.match_indices("crate::") {
                    let used: String = line[i + "crate::".len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                        .collect();
                    let rest = &line[i + "crate::".len()..];
                    if top == "error" && NAMED_BY_ERROR.iter().any(|n| rest.starts_with(n)) {
                        continue;
                    }
                    if !used.is_empty() && used != top {
                        out.entry(top.clone())
                            .or_default()
                            .entry(used)
                            .or_insert_with(|| format!("{}:{}", rel.display(), n + 1));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_module_imports_only_lower_layers() {
    let mut wrong = Vec::new();
    for (module, used) in imports() {
        for (target, at) in used {
            if layer_of(&target) >= layer_of(&module) {
                wrong.push(format!("{module} imports {target} ({at})"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that do not go down:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_module_is_in_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(src).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let module = name.trim_end_matches(".rs");
        if module != "lib" {
            layer_of(module);
        }
    }
}
