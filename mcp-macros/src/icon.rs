//! `icon = "https://…"` and `icon(src = "…", mime_type = "…", sizes = ["48x48"], theme =
//! "dark")`: the icons of the server, a tool, a resource or a prompt (MCP 2025-11-25 and
//! 2026-07-28 `Icon`), each checked at compile time.
//!
//! `src` is an `https:` URL or a `data:` URI of an image (clients fetch nothing else);
//! `mime_type` is an image type clients display, agreeing with a `data:` URI's type or a
//! file name's extension; `sizes` are `WxH` in pixels or `any`; `theme` is `light` or
//! `dark`.

use std::fmt::Write as _;

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;
use syn::meta::ParseNestedMeta;

use crate::ctxt::Ctxt;
use crate::message::{listed, nearest};
use crate::options::{Key, Options, Place, Takes};
use crate::rt::rt;
use crate::tokens::option_lit;

/// The image types an icon may have.
const IMAGE_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/svg+xml",
    "image/webp",
    "image/gif",
    "image/avif",
    "image/x-icon",
    "image/vnd.microsoft.icon",
];

/// File name extensions whose image type is certain, for `https:` icons.
const EXTENSIONS: &[(&str, &[&str])] = &[
    ("png", &["image/png"]),
    ("jpg", &["image/jpeg"]),
    ("jpeg", &["image/jpeg"]),
    ("svg", &["image/svg+xml"]),
    ("webp", &["image/webp"]),
    ("gif", &["image/gif"]),
    ("avif", &["image/avif"]),
    ("ico", &["image/x-icon", "image/vnd.microsoft.icon"]),
];

/// The longest `src` quoted whole in a message; longer ones (`data:` URIs) are cut.
const SHOWN: usize = 48;

/// One icon as written.
pub(crate) struct Icon {
    pub(crate) src: LitStr,
    pub(crate) mime_type: Option<LitStr>,
    pub(crate) sizes: Vec<LitStr>,
    /// The `sizes` key, for an empty list.
    pub(crate) sizes_key: Option<syn::Path>,
    pub(crate) theme: Option<LitStr>,
}

const KEYS: &[Key] = &[
    Key("src", Takes::Str),
    Key("mime_type", Takes::Str),
    Key("sizes", Takes::List),
    Key("theme", Takes::Str),
];

const USAGE: &str = "write `icon = \"https://…\"`, or `icon(src = \"…\", mime_type = \"image/png\", sizes = [\"48x48\"], theme = \"dark\")`";

/// Parses the `icon` option at `meta`: `icon = "…"` or `icon(…)`.
pub(crate) fn parse(meta: &ParseNestedMeta<'_>) -> syn::Result<Icon> {
    if meta.input.peek(syn::Token![=]) {
        let src: LitStr = meta.value()?.parse()?;
        return Ok(Icon {
            src,
            mime_type: None,
            sizes: Vec::new(),
            sizes_key: None,
            theme: None,
        });
    }
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(USAGE));
    }
    let options = Options::parse_nested(meta, Place::nested("icon", " in this icon"), KEYS)?;
    let Some(src) = options.str("src").cloned() else {
        return Err(
            meta.error("this icon has no `src`; add `src = \"https://…\"` (or a `data:` URI)")
        );
    };
    let (sizes_key, sizes) = match options.list("sizes") {
        Some((key, sizes)) => (Some(key.clone()), sizes.to_vec()),
        None => (None, Vec::new()),
    };
    Ok(Icon {
        src,
        mime_type: options.str("mime_type").cloned(),
        sizes,
        sizes_key,
        theme: options.str("theme").cloned(),
    })
}

/// Checks the icons of one owner (`server`, `tool`, `resource`, …), recording every
/// mistake.
pub(crate) fn check(cx: &mut Ctxt, icons: &[Icon], owner: &str) {
    for (i, icon) in icons.iter().enumerate() {
        let src = icon.src.value();
        if icons[..i].iter().any(|earlier| earlier.src.value() == src) {
            cx.error_at(
                &icon.src,
                format!(
                    "icon `{}` is given twice on this {owner}; keep one",
                    shown(&src)
                ),
            );
            continue;
        }
        let implied = match check_src(&src) {
            Ok(implied) => implied,
            Err(why) => {
                cx.error_at(&icon.src, why);
                None
            }
        };
        if let Some(lit) = &icon.mime_type {
            let mime = lit.value();
            if let Err(why) = check_mime_type(&mime, &format!("`mime_type = \"{mime}\"`")) {
                cx.error_at(lit, why);
            } else if let Some(implied) = &implied
                && !implied.types.contains(&mime.to_ascii_lowercase())
            {
                cx.error_at(
                    lit,
                    format!(
                        "`mime_type = \"{mime}\"` disagrees with the icon's {}; make them agree, or drop `mime_type`",
                        implied.what
                    ),
                );
            }
        }
        check_sizes(cx, icon);
        if let Some(lit) = &icon.theme {
            let theme = lit.value();
            if theme != "light" && theme != "dark" {
                let mut message = format!(
                    "icon theme `{theme}` is neither `light` nor `dark`: the theme names the background the icon is drawn for"
                );
                if let Some(near) = nearest(&theme.to_ascii_lowercase(), &["light", "dark"]) {
                    let _ = write!(message, "; write `theme = \"{near}\"`");
                }
                cx.error_at(lit, message);
            }
        }
    }
}

/// `src`, if at most [`SHOWN`] characters, else its start and `…`.
fn shown(src: &str) -> String {
    if src.chars().count() <= SHOWN {
        src.to_owned()
    } else {
        let start: String = src.chars().take(SHOWN - 8).collect();
        format!("{start}…")
    }
}

/// The image type a `src` implies, by its `data:` type or its file name.
#[derive(Debug)]
struct Implied {
    /// What implies it, for a message: "`data:` URI, whose type is `image/png`".
    what: String,
    /// The types it allows, in lowercase.
    types: Vec<String>,
}

/// Checks `src`, and says which image type it implies, if any.
fn check_src(src: &str) -> Result<Option<Implied>, String> {
    if src.trim().is_empty() {
        return Err(
            "an icon's `src` cannot be empty; write an `https:` URL or a `data:` URI".to_owned(),
        );
    }
    let shown = shown(src);
    let Some(scheme) = crate::resource::uri::scheme(src) else {
        let example = if src.starts_with("//") {
            format!("https:{src}")
        } else {
            format!("https://example.com/{}", src.trim_start_matches('/'))
        };
        return Err(format!(
            "icon `{shown}` is not an absolute URL; an icon's `src` is an `https:` URL, as in `{example}`, or a `data:` URI"
        ));
    };
    let rest = &src[scheme.len() + 1..];
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {
            check_https(src, rest)?;
            Ok(extension_types(rest).map(|(file, types)| Implied {
                what: format!("file name `{file}`, an `{}` file", types[0]),
                types: types.iter().map(|t| (*t).to_owned()).collect(),
            }))
        }
        "data" => {
            let ty = check_data(src, rest)?.to_ascii_lowercase();
            Ok(Some(Implied {
                what: format!("`data:` URI, whose type is `{ty}`"),
                types: vec![ty],
            }))
        }
        "http" => Err(format!(
            "icon `{shown}` would be fetched over plain `http:`; an icon's `src` is an `https:` URL or a `data:` URI: write `https:{rest}`"
        )),
        _ => Err(format!(
            "icon `{shown}` uses the `{scheme}:` scheme; an icon's `src` is an `https:` URL or a `data:` URI"
        )),
    }
}

/// `https:` + `//host/…`, in URI characters, without credentials.
fn check_https(src: &str, rest: &str) -> Result<(), String> {
    let shown = shown(src);
    let Some(after) = rest.strip_prefix("//") else {
        return Err(format!(
            "icon `{shown}` has no `//` after `https:`; write `https://{}`",
            rest.trim_start_matches('/')
        ));
    };
    let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(format!(
            "icon `{shown}` has no host; write it as in `https://example.com/icon.png`"
        ));
    }
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        return Err(format!(
            "icon `{shown}` has credentials in it; every client that lists the icon fetches it, so its URL holds no secrets: remove `{userinfo}@`"
        ));
    }
    check_chars(src, &shown, "")
}

/// `data:image/…[;base64],…`; the image type.
fn check_data<'a>(src: &str, rest: &'a str) -> Result<&'a str, String> {
    let shown = shown(src);
    let Some((header, data)) = rest.split_once(',') else {
        return Err(format!(
            "icon `{shown}` has no `,` before its data; write `data:image/png;base64,…`"
        ));
    };
    let mut params = header.split(';');
    let media_type = params.next().unwrap_or_default().trim();
    let base64 = header
        .rsplit(';')
        .next()
        .is_some_and(|p| p.eq_ignore_ascii_case("base64"))
        && header.contains(';');
    if media_type.is_empty() {
        return Err(format!(
            "icon `{shown}` names no media type, so clients read it as text; write the image type, as in `data:image/png;base64,…`"
        ));
    }
    check_mime_type(
        media_type,
        &format!("icon `{shown}` has type `{media_type}`, which"),
    )?;
    if data.is_empty() {
        return Err(format!("icon `{shown}` has no data after its `,`"));
    }
    if base64 {
        let body = data.trim_end_matches('=');
        if data.len() - body.len() > 2
            || body
                .chars()
                .any(|c| !(c.is_ascii_alphanumeric() || c == '+' || c == '/'))
        {
            return Err(format!(
                "the data of icon `{shown}` is not base64: it uses only `A-Z a-z 0-9 + /`, with at most two `=` at the end"
            ));
        }
    } else {
        check_chars(
            src,
            &shown,
            ", or base64-encode the data (`data:…;base64,…`)",
        )?;
    }
    Ok(media_type)
}

/// Characters a URI may hold, and `%` only as percent-encoding.
fn check_chars(src: &str, shown: &str, alternative: &str) -> Result<(), String> {
    crate::resource::uri::check_chars(src, &format!("icon `{shown}`"), alternative)
}

/// An image type clients display; `subject` starts the message.
fn check_mime_type(mime: &str, subject: &str) -> Result<(), String> {
    let lower = mime.to_ascii_lowercase();
    if IMAGE_TYPES.contains(&lower.as_str()) {
        return Ok(());
    }
    let mut message = if lower.starts_with("image/") {
        format!("{subject} is not an image type MCP clients display")
    } else {
        format!("{subject} is not an image type")
    };
    let _ = write!(message, "; icon types are {}", listed(IMAGE_TYPES, ""));
    let near = match lower.as_str() {
        "image/jpg" => Some("image/jpeg"),
        "image/svg" => Some("image/svg+xml"),
        "image/ico" => Some("image/x-icon"),
        _ => nearest(&lower, IMAGE_TYPES),
    };
    if let Some(near) = near {
        let _ = write!(message, "; did you mean `{near}`?");
    }
    Err(message)
}

/// The file name of a `https:` URL and the image types its extension implies.
fn extension_types(rest: &str) -> Option<(&str, &'static [&'static str])> {
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    let file = path.trim_start_matches("//").split_once('/')?.1;
    let file = file.rsplit('/').next()?;
    let (_, ext) = file.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    EXTENSIONS
        .iter()
        .find(|(e, _)| *e == ext)
        .map(|(_, types)| (file, *types))
}

/// Each size is `WxH` or `any`, once.
fn check_sizes(cx: &mut Ctxt, icon: &Icon) {
    if icon.sizes.is_empty() {
        if let Some(key) = &icon.sizes_key {
            cx.error_at(
                key,
                "`sizes` is empty; list the icon's sizes, as in `sizes = [\"48x48\"]`, or drop it",
            );
        }
        return;
    }
    for (i, lit) in icon.sizes.iter().enumerate() {
        let size = lit.value();
        if icon.sizes[..i].iter().any(|s| s.value() == size) {
            cx.error_at(lit, format!("icon size `{size}` is listed twice; keep one"));
            continue;
        }
        if let Err(why) = check_size(&size) {
            cx.error_at(lit, why);
        }
    }
}

fn check_size(size: &str) -> Result<(), String> {
    if size == "any" {
        return Ok(());
    }
    let dimensions = |s: &str| -> Option<(u32, u32)> {
        let (w, h) = s.split_once('x')?;
        let number = |n: &str| {
            (!n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && !n.starts_with('0'))
                .then(|| n.parse::<u32>().ok())
                .flatten()
        };
        Some((number(w)?, number(h)?))
    };
    if dimensions(size).is_some() {
        return Ok(());
    }
    let mut message = format!(
        "icon size `{size}` is neither `WxH` in pixels (as in `48x48`) nor `any` (for a scalable icon)"
    );
    let parts: Vec<&str> = size
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|p| !p.is_empty())
        .collect();
    let lower = size.to_ascii_lowercase();
    if parts.len() > 1 {
        let _ = write!(
            message,
            "; list one size per entry: `[{}]`",
            parts
                .iter()
                .map(|p| format!("\"{}\"", p.escape_default()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    } else if lower == "any" || dimensions(&lower).is_some() {
        let _ = write!(message, "; write `{lower}`");
    } else if let Ok(n) = size.parse::<u32>()
        && n > 0
    {
        let _ = write!(message, "; write `{n}x{n}`");
    } else if size.split_once('x').is_some_and(|(w, h)| {
        w.chars().all(|c| c.is_ascii_digit()) && h.chars().all(|c| c.is_ascii_digit())
    }) {
        message.push_str("; each side is at least one pixel, written without leading zeros");
    }
    Err(message)
}

/// The runtime's `&[IconDef { … }]` for `icons`.
pub(crate) fn expand(icons: &[Icon]) -> TokenStream {
    let rt = rt();
    let defs = icons.iter().map(|icon| {
        let src = &icon.src;
        let mime_type = option_lit(icon.mime_type.as_ref());
        let sizes = &icon.sizes;
        let theme = option_lit(icon.theme.as_ref());
        quote! {
            #rt::IconDef {
                src: #src,
                mime_type: #mime_type,
                sizes: &[#(#sizes),*],
                theme: #theme,
            }
        }
    });
    quote!(&[#(#defs),*])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_and_data_images() {
        for ok in [
            "https://example.com/icon.png",
            "HTTPS://example.com:8443/a/b/icon.svg?v=2#x",
            "data:image/png;base64,iVBORw0KGgo=",
            "data:image/svg+xml,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%2F%3E",
            "data:image/svg+xml;charset=utf-8;base64,PHN2Zy8+",
        ] {
            assert!(check_src(ok).is_ok(), "{ok}: {:?}", check_src(ok));
        }
        assert_eq!(
            check_src("https://x.org/a.SVG").unwrap().unwrap().types,
            ["image/svg+xml"]
        );
        assert!(check_src("https://x.org/logo").unwrap().is_none());
        assert!(check_src("https://x.org/").unwrap().is_none());
        assert!(check_src("https://x.org").unwrap().is_none());
        assert!(check_src("https://x.org/a.png.gz").unwrap().is_none());
        assert_eq!(
            check_src("data:IMAGE/WEBP;base64,AAAA")
                .unwrap()
                .unwrap()
                .types,
            ["image/webp"]
        );
    }

    #[test]
    fn refuses_other_sources() {
        let err = |s: &str| check_src(s).unwrap_err();
        assert!(err("").contains("empty"));
        assert!(err("http://example.com/a.png").contains("`https://example.com/a.png`"));
        assert!(err("javascript:alert(1)").contains("`javascript:` scheme"));
        assert!(err("file:///icon.png").contains("`file:` scheme"));
        assert!(err("icon.png").contains("`https://example.com/icon.png`"));
        assert!(err("/static/icon.png").contains("`https://example.com/static/icon.png`"));
        assert!(err("//cdn.example.com/icon.png").contains("`https://cdn.example.com/icon.png`"));
        assert!(err("https:example.com/a.png").contains("no `//`"));
        assert!(err("https:///a.png").contains("no host"));
        assert!(err("https://user:pw@example.com/a.png").contains("credentials"));
        assert!(err("https://example.com/my icon.png").contains("`%20`"));
        assert!(err("https://example.com/100%.png").contains("`%25`"));
        assert!(err("data:image/png;base64").contains("no `,`"));
        assert!(err("data:,hello").contains("no media type"));
        assert!(err("data:text/html,<script>").contains("type `text/html`, which is not an image"));
        assert!(err("data:image/png;base64,").contains("no data"));
        assert!(err("data:image/png;base64,iVBOR w0=").contains("not base64"));
        assert!(err("data:image/png;base64,AA===").contains("not base64"));
        assert!(err("data:image/svg+xml,<svg/>").contains("base64-encode"));
        let long = format!("data:text/plain;base64,{}", "A".repeat(400));
        assert!(err(&long).len() < 300);
    }

    #[test]
    fn mime_types_are_images() {
        assert!(check_mime_type("image/svg+xml", "t").is_ok());
        assert!(check_mime_type("IMAGE/PNG", "t").is_ok());
        assert!(
            check_mime_type("image/jpg", "t")
                .unwrap_err()
                .contains("`image/jpeg`?")
        );
        assert!(
            check_mime_type("image/svg", "t")
                .unwrap_err()
                .contains("`image/svg+xml`?")
        );
        assert!(
            check_mime_type("text/html", "t")
                .unwrap_err()
                .contains("t is not an image type;")
        );
        assert!(check_mime_type("image/png; q=1", "t").is_err());
    }

    #[test]
    fn sizes_are_pixels_or_any() {
        for ok in ["48x48", "1x1", "512x256", "any"] {
            assert_eq!(check_size(ok), Ok(()), "{ok}");
        }
        assert!(check_size("48").unwrap_err().contains("`48x48`"));
        assert!(check_size("48X48").unwrap_err().contains("write `48x48`"));
        assert!(check_size("ANY").unwrap_err().contains("write `any`"));
        assert!(
            check_size("0x0")
                .unwrap_err()
                .contains("at least one pixel")
        );
        assert!(check_size("048x48").unwrap_err().contains("leading zeros"));
        assert!(
            check_size("48x48 96x96")
                .unwrap_err()
                .contains(r#"`["48x48", "96x96"]`"#)
        );
        assert!(check_size("big").is_err());
        assert!(check_size("").is_err());
    }
}
