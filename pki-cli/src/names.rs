//! Names the CLI makes up or checks: CA ids, output file base names, and ASCII slugs of
//! Vietnamese names.

use crate::error::{Failure, Result};
use crate::index::ROOT_ID;

/// Checks a CA id: 1 to 32 of `a-z 0-9 -`, starting with a letter or digit, not `root`.
pub(crate) fn check_ca_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-');
    if !ok {
        return Err(Failure::new(format!(
            "invalid CA id `{}`: use 1 to 32 lowercase letters, digits and dashes",
            id.chars().take(40).collect::<String>()
        ))
        .hint("for example --id state or --id ca-2026"));
    }
    if id == ROOT_ID {
        return Err(Failure::new("the CA id `root` is reserved for the root CA")
            .hint("choose another id, e.g. --id state"));
    }
    Ok(())
}

/// Checks an output base name: a plain file name of `A-Z a-z 0-9 . _ -`, not starting with `.`.
pub(crate) fn check_basename(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "invalid --basename `{}`: use letters, digits, `.`, `_` and `-` (no directories; \
             use --out for that)",
            name.chars().take(40).collect::<String>()
        )))
    }
}

/// An ASCII slug of a name: Vietnamese letters lose their diacritics (`Văn phòng Chính phủ` →
/// `van-phong-chinh-phu`), anything else that is not a letter or digit becomes a dash.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in name.chars().flat_map(|c| c.to_lowercase()) {
        let c = fold_vietnamese(c);
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
        if out.len() >= 48 {
            break;
        }
    }
    if out.is_empty() {
        "cert".to_owned()
    } else {
        out
    }
}

/// The base letter of a lowercase Vietnamese letter with diacritics; other characters unchanged.
fn fold_vietnamese(c: char) -> char {
    const GROUPS: [(&str, char); 7] = [
        ("àáảãạăằắẳẵặâầấẩẫậ", 'a'),
        ("èéẻẽẹêềếểễệ", 'e'),
        ("ìíỉĩị", 'i'),
        ("òóỏõọôồốổỗộơờớởỡợ", 'o'),
        ("ùúủũụưừứửữự", 'u'),
        ("ỳýỷỹỵ", 'y'),
        ("đ", 'd'),
    ];
    GROUPS
        .iter()
        .find(|(set, _)| set.contains(c))
        .map_or(c, |&(_, base)| base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_fold_vietnamese() {
        assert_eq!(slug("Văn phòng Chính phủ"), "van-phong-chinh-phu");
        assert_eq!(slug("Nguyễn Thị Đào"), "nguyen-thi-dao");
        assert_eq!(slug("UBND tỉnh Nghệ An"), "ubnd-tinh-nghe-an");
        assert_eq!(slug("axis.example.vn"), "axis-example-vn");
        assert_eq!(slug("  --  "), "cert");
    }

    #[test]
    fn ca_ids() {
        assert!(check_ca_id("state").is_ok());
        assert!(check_ca_id("ca-2026").is_ok());
        for bad in ["", "root", "State", "-x", "a/b", &"a".repeat(33)] {
            assert!(check_ca_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn basenames() {
        assert!(check_basename("000.00.00.G22-agency-seal").is_ok());
        for bad in ["", ".hidden", "a/b", "../x", "a b"] {
            assert!(check_basename(bad).is_err(), "{bad}");
        }
    }
}
