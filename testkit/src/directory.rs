//! A generated national unit directory (QCVN 102:2016 ids, Vietnamese names, four levels:
//! ministries and provinces; their departments and districts; offices and communes; schools
//! and health stations), in the file formats `axis directory import` reads, and the operator
//! who signs it. Deterministic: the same `n` gives the same units.

use std::fmt::Write as _;
use std::sync::OnceLock;

use axis_evidence::{RawUnit, Unit, UnitList};
use axis_pki::{KeyAlgorithm, Profile, Subject};

use crate::fixture::{Person, issue_extra};

/// The size of the national directory (VNPT's `getAgenciesList`, c. 2025).
pub const NATIONAL_UNITS: usize = 111_339;

const MINISTRIES: &[&str] = &[
    "Bộ Công an",
    "Bộ Công Thương",
    "Bộ Giáo dục và Đào tạo",
    "Bộ Giao thông vận tải",
    "Bộ Kế hoạch và Đầu tư",
    "Bộ Khoa học và Công nghệ",
    "Bộ Lao động – Thương binh và Xã hội",
    "Bộ Ngoại giao",
    "Bộ Nội vụ",
    "Bộ Nông nghiệp và Phát triển nông thôn",
    "Bộ Quốc phòng",
    "Bộ Tài chính",
    "Bộ Tài nguyên và Môi trường",
    "Bộ Thông tin và Truyền thông",
    "Bộ Tư pháp",
    "Bộ Văn hóa, Thể thao và Du lịch",
    "Bộ Xây dựng",
    "Bộ Y tế",
    "Ngân hàng Nhà nước Việt Nam",
    "Thanh tra Chính phủ",
    "Ủy ban Dân tộc",
    "Văn phòng Chính phủ",
    "Bảo hiểm xã hội Việt Nam",
    "Thông tấn xã Việt Nam",
    "Đài Truyền hình Việt Nam",
    "Đài Tiếng nói Việt Nam",
    "Viện Hàn lâm Khoa học và Công nghệ Việt Nam",
    "Viện Hàn lâm Khoa học xã hội Việt Nam",
    "Học viện Chính trị quốc gia Hồ Chí Minh",
    "Ủy ban Quản lý vốn nhà nước tại doanh nghiệp",
];

const PROVINCES: &[&str] = &[
    "An Giang",
    "Bà Rịa – Vũng Tàu",
    "Bắc Giang",
    "Bắc Kạn",
    "Bạc Liêu",
    "Bắc Ninh",
    "Bến Tre",
    "Bình Định",
    "Bình Dương",
    "Bình Phước",
    "Bình Thuận",
    "Cà Mau",
    "Đà Nẵng",
    "Cao Bằng",
    "Cần Thơ",
    "Đắk Lắk",
    "Đắk Nông",
    "Điện Biên",
    "Đồng Nai",
    "Đồng Tháp",
    "Gia Lai",
    "Hà Giang",
    "Hà Nam",
    "Hà Nội",
    "Hà Tĩnh",
    "Hải Dương",
    "Hải Phòng",
    "Hậu Giang",
    "Hòa Bình",
    "Hưng Yên",
    "Khánh Hòa",
    "Kiên Giang",
    "Kon Tum",
    "Lai Châu",
    "Lâm Đồng",
    "Lạng Sơn",
    "Lào Cai",
    "Long An",
    "Nam Định",
    "Nghệ An",
    "Ninh Bình",
    "Ninh Thuận",
    "Phú Thọ",
    "Phú Yên",
    "Quảng Bình",
    "Quảng Nam",
    "Quảng Ngãi",
    "Quảng Ninh",
    "Quảng Trị",
    "Sóc Trăng",
    "Sơn La",
    "Tây Ninh",
    "Thái Bình",
    "Thái Nguyên",
    "Thanh Hóa",
    "Thừa Thiên Huế",
    "Tiền Giang",
    "TP. Hồ Chí Minh",
    "Trà Vinh",
    "Tuyên Quang",
    "Vĩnh Long",
    "Vĩnh Phúc",
    "Yên Bái",
];

const DEPARTMENTS: &[&str] = &[
    "Văn phòng Ủy ban nhân dân tỉnh",
    "Sở Nội vụ",
    "Sở Tư pháp",
    "Sở Kế hoạch và Đầu tư",
    "Sở Tài chính",
    "Sở Công Thương",
    "Sở Nông nghiệp và Phát triển nông thôn",
    "Sở Giao thông vận tải",
    "Sở Xây dựng",
    "Sở Tài nguyên và Môi trường",
    "Sở Thông tin và Truyền thông",
    "Sở Lao động – Thương binh và Xã hội",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Khoa học và Công nghệ",
    "Sở Giáo dục và Đào tạo",
    "Sở Y tế",
    "Thanh tra tỉnh",
    "Ban Dân tộc",
    "Ban Quản lý các khu công nghiệp",
    "Đài Phát thanh và Truyền hình",
];

const DEPARTMENT_UNITS: &[&str] = &[
    "Văn phòng",
    "Thanh tra",
    "Phòng Kế hoạch – Tài chính",
    "Phòng Tổ chức cán bộ",
    "Trung tâm Công nghệ thông tin",
];

const MINISTRY_UNITS: &[&str] = &[
    "Văn phòng Bộ",
    "Vụ Tổ chức cán bộ",
    "Vụ Kế hoạch – Tài chính",
    "Vụ Pháp chế",
    "Vụ Hợp tác quốc tế",
    "Thanh tra Bộ",
    "Cục Công nghệ thông tin",
    "Trung tâm Thông tin",
];

const DISTRICT_OFFICES: &[&str] = &[
    "Văn phòng HĐND và UBND",
    "Phòng Nội vụ",
    "Phòng Tư pháp",
    "Phòng Tài chính – Kế hoạch",
    "Phòng Kinh tế và Hạ tầng",
    "Phòng Tài nguyên và Môi trường",
    "Phòng Lao động – Thương binh và Xã hội",
    "Phòng Văn hóa và Thông tin",
    "Phòng Giáo dục và Đào tạo",
    "Phòng Y tế",
    "Thanh tra",
    "Phòng Dân tộc",
];

const COMMUNE_UNITS: &[&str] = &[
    "Trường Mầm non",
    "Trường Tiểu học",
    "Trường Trung học cơ sở",
    "Trạm Y tế",
];

const FIRST: &[&str] = &[
    "An", "Bình", "Hòa", "Phú", "Tân", "Thạnh", "Long", "Phước", "Hưng", "Thuận", "Đông", "Tây",
    "Nam", "Bắc", "Trung", "Mỹ", "Vĩnh", "Quang", "Minh", "Thành", "Đức", "Hải", "Lộc", "Xuân",
];
const SECOND: &[&str] = &[
    "Lợi", "Hiệp", "Thịnh", "Phong", "Sơn", "Điền", "Khánh", "Lâm", "Hà", "Tiến", "Định", "Yên",
    "Đạt", "Hòa", "Thủy", "Trạch", "Cường", "Lạc", "Hội", "Kiều",
];

/// Districts per province and communes per district: with 30 ministries and 63 provinces,
/// the tree has room for more than [`NATIONAL_UNITS`] units.
const DISTRICTS: usize = 12;
const COMMUNES: usize = 25;

fn place(i: usize) -> String {
    format!(
        "{} {}",
        FIRST[i % FIRST.len()],
        SECOND[(i / FIRST.len()) % SECOND.len()]
    )
}

fn nfc(s: String) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    s.nfc().collect()
}

struct Out {
    units: Vec<RawUnit>,
    n: usize,
}

impl Out {
    fn full(&self) -> bool {
        self.units.len() >= self.n
    }

    fn push(&mut self, id: String, name: String, parent: &str, qd20: bool) -> String {
        if !self.full() {
            self.units.push(RawUnit {
                code_qd20: if qd20 { id.clone() } else { String::new() },
                id: id.clone(),
                name: nfc(name),
                parent: parent.to_owned(),
            });
        }
        id
    }
}

/// The first `n` units of a generated national directory, each parent before its children.
pub fn generate(n: usize) -> Vec<RawUnit> {
    let mut out = Out {
        units: Vec::with_capacity(n),
        n,
    };
    for (m, name) in MINISTRIES.iter().enumerate() {
        let l1 = format!("G{:02}", m + 1);
        let top = out.push(format!("000.00.00.{l1}"), (*name).to_owned(), "", true);
        for (d, dept) in MINISTRY_UNITS.iter().enumerate() {
            let l2 = out.push(
                format!("000.00.{:02}.{l1}", d + 1),
                format!("{dept} – {name}"),
                &top,
                true,
            );
            for p in 1..=3 {
                out.push(
                    format!("000.{p:02}.{:02}.{l1}", d + 1),
                    format!("Phòng {p} – {dept}"),
                    &l2,
                    false,
                );
            }
        }
    }
    for (p, province) in PROVINCES.iter().enumerate() {
        let l1 = format!("H{:02}", p + 1);
        let top = out.push(
            format!("000.00.00.{l1}"),
            format!("Ủy ban nhân dân tỉnh {province}"),
            "",
            true,
        );
        for (d, dept) in DEPARTMENTS.iter().enumerate() {
            let l2 = out.push(
                format!("000.00.{:02}.{l1}", d + 1),
                format!("{dept} {province}"),
                &top,
                true,
            );
            for (u, unit) in DEPARTMENT_UNITS.iter().enumerate() {
                out.push(
                    format!("000.{:02}.{:02}.{l1}", u + 1, d + 1),
                    format!("{unit} – {dept}"),
                    &l2,
                    false,
                );
            }
        }
        for k in 0..DISTRICTS {
            let code2 = DEPARTMENTS.len() + 1 + k;
            let district = place(p * DISTRICTS + k);
            let l2 = out.push(
                format!("000.00.{code2:02}.{l1}"),
                format!("Ủy ban nhân dân huyện {district}"),
                &top,
                true,
            );
            for (o, office) in DISTRICT_OFFICES.iter().enumerate() {
                out.push(
                    format!("000.{:02}.{code2:02}.{l1}", o + 1),
                    format!("{office} huyện {district}"),
                    &l2,
                    false,
                );
            }
            for c in 0..COMMUNES {
                let code3 = DISTRICT_OFFICES.len() + 1 + c;
                let commune = place((p * DISTRICTS + k) * COMMUNES + c + 7);
                let l3 = out.push(
                    format!("000.{code3:02}.{code2:02}.{l1}"),
                    format!("Ủy ban nhân dân xã {commune}, huyện {district}"),
                    &l2,
                    false,
                );
                for (s, unit) in COMMUNE_UNITS.iter().enumerate() {
                    out.push(
                        format!("{:03}.{code3:02}.{code2:02}.{l1}", s + 1),
                        format!("{unit} xã {commune}"),
                        &l3,
                        false,
                    );
                }
            }
        }
    }
    out.units
}

/// `units` with every `step`-th unit (from the first) renamed: a re-import that changes
/// `units.len() / step` units.
pub fn renamed(units: &[RawUnit], step: usize, suffix: &str) -> Vec<RawUnit> {
    units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let mut u = u.clone();
            if i % step.max(1) == 0 {
                u.name = format!("{} {suffix}", u.name);
            }
            u
        })
        .collect()
}

fn csv_field(out: &mut String, v: &str) {
    if v.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&v.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(v);
    }
}

/// The units as the CSV `axis directory import` reads: a header `id,name,parent,code_qd20`,
/// one unit per line, fields quoted when they hold a comma or a quote.
pub fn to_csv(units: &[RawUnit]) -> String {
    let mut out = String::from("id,name,parent,code_qd20\n");
    for u in units {
        for (i, v) in [&u.id, &u.name, &u.parent, &u.code_qd20]
            .into_iter()
            .enumerate()
        {
            if i > 0 {
                out.push(',');
            }
            csv_field(&mut out, v);
        }
        out.push('\n');
    }
    out
}

fn json_string(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The units as the JSON `axis directory import` reads: an array of objects with `id`, `name`,
/// and `parent` and `code_qd20` when not empty, one object per line.
pub fn to_json(units: &[RawUnit]) -> String {
    let mut out = String::from("[\n");
    for (i, u) in units.iter().enumerate() {
        out.push_str("  {\"id\": ");
        json_string(&mut out, &u.id);
        out.push_str(", \"name\": ");
        json_string(&mut out, &u.name);
        if !u.parent.is_empty() {
            out.push_str(", \"parent\": ");
            json_string(&mut out, &u.parent);
        }
        if !u.code_qd20.is_empty() {
            out.push_str(", \"code_qd20\": ");
            json_string(&mut out, &u.code_qd20);
        }
        out.push('}');
        if i + 1 < units.len() {
            out.push(',');
        }
        out.push('\n');
    }
    out.push_str("]\n");
    out
}

/// An axis operator of the fixture's PKI (P-256): signs directory versions.
pub fn operator() -> &'static Person {
    static OP: OnceLock<Person> = OnceLock::new();
    OP.get_or_init(|| {
        issue_extra(
            Profile::AxisOperator,
            Subject::new("Axis operator (test)"),
            KeyAlgorithm::EcdsaP256,
        )
    })
}

/// The checked list of `raw` (names trimmed and put in NFC, as `axis directory import` does).
pub fn unit_list(raw: &[RawUnit]) -> UnitList {
    UnitList::new(
        raw.iter()
            .enumerate()
            .map(|(i, r)| (i, Unit::parse_lenient(r, i).unwrap()))
            .collect(),
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_national_directory_has_its_size_unique_ids_and_parents_first() {
        let units = generate(NATIONAL_UNITS);
        assert_eq!(units.len(), NATIONAL_UNITS);
        let mut seen = std::collections::HashSet::new();
        for u in &units {
            assert!(u.parent.is_empty() || seen.contains(&u.parent), "{}", u.id);
            assert!(seen.insert(u.id.clone()), "{}", u.id);
        }
    }
}
