//! Reading the roles' log lines (tracing's default format: `... message field=value ...`).

/// `text` without ANSI colour sequences (`ESC [ ... letter`).
pub fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(character) = chars.next() {
        if character == '\u{1b}' {
            for inside in chars.by_ref() {
                if inside.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(character);
        }
    }
    plain
}

/// The lines of `text` (colours removed) that contain `message`.
pub fn lines_with(text: &str, message: &str) -> Vec<String> {
    strip_ansi(text)
        .lines()
        .filter(|line| line.contains(message))
        .map(str::to_owned)
        .collect()
}

/// The value of `name=value` in a log line, quotes removed.
pub fn field(line: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=");
    let start = line.find(&needle)? + needle.len();
    let rest = &line[start..];
    let value = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next().unwrap_or_default(),
        None => rest.split_whitespace().next().unwrap_or_default(),
    };
    Some(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_with_and_without_quotes_and_colours() {
        let line = "2026-01-01T00:00:00Z  INFO engine::shard: shard stopped shard=0 sequence=1234 state_hash=\"0x00ab\"";
        assert_eq!(field(line, "sequence").as_deref(), Some("1234"));
        assert_eq!(field(line, "state_hash").as_deref(), Some("0x00ab"));
        assert_eq!(field(line, "missing"), None);
        let coloured =
            "\u{1b}[2m2026\u{1b}[0m shard rebuilt \u{1b}[3msequence\u{1b}[0m\u{1b}[2m=\u{1b}[0m7";
        let lines = lines_with(coloured, "shard rebuilt");
        assert_eq!(lines.len(), 1);
        assert_eq!(field(&lines[0], "sequence").as_deref(), Some("7"));
    }
}
