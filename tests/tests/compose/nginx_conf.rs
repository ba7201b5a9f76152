//! A small reader of nginx's configuration syntax: directives, arguments (quoted or not) and
//! blocks, enough to find the upstreams and the locations of `nginx/nginx.conf`.

/// One directive: `name args... ;` or `name args... { children }`.
#[derive(Debug, Clone)]
pub struct Directive {
    /// The directive's name.
    pub name: String,
    /// Its arguments, quotes removed.
    pub args: Vec<String>,
    /// The block's directives, when it has one.
    pub block: Vec<Directive>,
}

impl Directive {
    /// The direct children named `name`.
    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Directive> {
        self.block.iter().filter(move |child| child.name == name)
    }

    /// The arguments of the first direct child named `name`.
    pub fn child_args<'a>(&'a self, name: &'a str) -> Option<&'a [String]> {
        self.children(name)
            .next()
            .map(|child| child.args.as_slice())
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Open,
    Close,
    End,
}

fn tokens(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => while chars.next_if(|&next| next != '\n').is_some() {},
            '{' => tokens.push(Token::Open),
            '}' => tokens.push(Token::Close),
            ';' => tokens.push(Token::End),
            '\'' | '"' => {
                let mut word = String::new();
                while let Some(next) = chars.next() {
                    match next {
                        '\\' => word.extend(chars.next()),
                        _ if next == c => break,
                        _ => word.push(next),
                    }
                }
                tokens.push(Token::Word(word));
            }
            _ if c.is_whitespace() => {}
            _ => {
                let mut word = String::from(c);
                while let Some(next) =
                    chars.next_if(|&next| !next.is_whitespace() && !"{};\"'".contains(next))
                {
                    word.push(next);
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    tokens
}

/// The whole file as a root directive whose block is the top level.
pub fn parse(text: &str) -> Directive {
    let tokens = tokens(text);
    let mut position = 0;
    let block = parse_block(&tokens, &mut position);
    assert_eq!(
        position,
        tokens.len(),
        "unbalanced `}}` in the nginx config"
    );
    Directive {
        name: String::new(),
        args: Vec::new(),
        block,
    }
}

fn parse_block(tokens: &[Token], position: &mut usize) -> Vec<Directive> {
    let mut directives = Vec::new();
    let mut words = Vec::new();
    while let Some(token) = tokens.get(*position) {
        *position += 1;
        match token {
            Token::Word(word) => words.push(word.clone()),
            Token::End => directives.push(directive(&mut words, Vec::new())),
            Token::Open => {
                let block = parse_block(tokens, position);
                assert_eq!(tokens.get(*position), Some(&Token::Close), "unclosed block");
                *position += 1;
                directives.push(directive(&mut words, block));
            }
            Token::Close => {
                *position -= 1;
                break;
            }
        }
    }
    assert!(words.is_empty(), "a directive without `;`: {words:?}");
    directives
}

fn directive(words: &mut Vec<String>, block: Vec<Directive>) -> Directive {
    let mut taken = std::mem::take(words).into_iter();
    let name = taken
        .next()
        .unwrap_or_else(|| panic!("an empty directive in the nginx config"));
    Directive {
        name,
        args: taken.collect(),
        block,
    }
}

/// The location of `server` that serves `path`: an exact (`=`) match, else the longest prefix.
/// Regular-expression locations are not expected (and asserted absent).
pub fn location_for<'a>(server: &'a Directive, path: &str) -> Option<&'a Directive> {
    let locations: Vec<&Directive> = server.children("location").collect();
    for location in &locations {
        let modifier = location.args.first().map(String::as_str);
        assert!(
            !matches!(modifier, Some("~" | "~*" | "^~")),
            "unexpected regex location {:?}",
            location.args
        );
    }
    let exact = locations.iter().find(|location| {
        location.args.len() == 2 && location.args[0] == "=" && location.args[1] == path
    });
    if let Some(location) = exact {
        return Some(location);
    }
    locations
        .iter()
        .filter(|location| location.args.len() == 1 && path.starts_with(location.args[0].as_str()))
        .max_by_key(|location| location.args[0].len())
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_quotes_and_comments() {
        let root = parse(
            "# c\nhttp { upstream a { server x:1; } server { location = /p { return 200 '{\"a\":1}'; } location / { return 404; } } }",
        );
        let http = &root.block[0];
        assert_eq!(http.name, "http");
        let server = http
            .children("server")
            .next()
            .unwrap_or_else(|| panic!("server"));
        let exact = location_for(server, "/p").unwrap_or_else(|| panic!("/p"));
        assert_eq!(
            exact.child_args("return"),
            Some(&["200".to_string(), "{\"a\":1}".to_string()][..])
        );
        let fallback = location_for(server, "/q").unwrap_or_else(|| panic!("/q"));
        assert_eq!(fallback.args, ["/"]);
    }
}
