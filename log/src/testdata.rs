//! Test data and helpers shared by the unit tests.

use std::collections::HashMap;

use crate::{Hash, NodeId, leaf_hash, node_hash};

/// The RFC 6962 test tree used by Certificate Transparency implementations (Google's
/// certificate-transparency-go and trillian `merkle` test data): entries, then roots by size.
pub(crate) const ENTRIES: [&[u8]; 8] = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
];

pub(crate) const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

pub(crate) fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(s: &str) -> Hash {
    let mut out = [0u8; 32];
    assert_eq!(s.len(), 64, "{s}");
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

pub(crate) fn test_leaves() -> Vec<Hash> {
    ENTRIES.iter().map(|e| leaf_hash(e)).collect()
}

/// Every complete node of the tree over `leaves`, as a server's table would hold them.
pub(crate) fn all_nodes(leaves: &[Hash]) -> HashMap<NodeId, Hash> {
    let mut map = HashMap::new();
    let mut row = leaves.to_vec();
    let mut level = 0u8;
    while !row.is_empty() {
        for (i, h) in row.iter().enumerate() {
            map.insert(
                NodeId {
                    level,
                    index: i as u64,
                },
                *h,
            );
        }
        row = row
            .chunks_exact(2)
            .map(|p| node_hash(&p[0], &p[1]))
            .collect();
        level += 1;
    }
    map
}
