//! The demo PKI of `axis-pki` (feature `demo`), issued at the fixed [`T0`], with the two demo
//! agencies (000.00.00.G22 sends, 000.00.00.H41 receives) and a trust store: what the SDK's
//! unit tests use. Built once per test binary.

use std::sync::OnceLock;

use axis_pki::demo::{AgencyCreds, DemoPki, Issued};
use axis_pki::{Profile, TrustStore, VerifiedCert};

pub use crate::fixture::NOW;
pub use crate::pki::T0;

/// The demo PKI at [`T0`], its CRLs, a store of them, and two agencies.
pub struct DemoWorld {
    /// The root and issuing CA.
    pub pki: DemoPki,
    /// The root's and the CA's CRLs (number 1, nothing revoked).
    pub crls: Vec<Vec<u8>>,
    /// The root, the CA and the CRLs.
    pub store: TrustStore,
    /// 000.00.00.G22, Văn phòng Chính phủ (Trần Văn Sơn, Phó Chủ nhiệm).
    pub g22: AgencyCreds,
    /// 000.00.00.H41, UBND tỉnh Nghệ An (Lê Thị Hoa, Phó Chủ tịch).
    pub h41: AgencyCreds,
}

impl DemoWorld {
    /// `cred`'s certificate verified for `profile` at [`NOW`].
    pub fn verified(&self, cred: &Issued, profile: Profile) -> VerifiedCert {
        self.store.verify(&cred.cert, profile, NOW).unwrap()
    }
}

/// The world, built on first use.
pub fn demo_world() -> &'static DemoWorld {
    static W: OnceLock<DemoWorld> = OnceLock::new();
    W.get_or_init(|| {
        let pki = DemoPki::new(T0).unwrap();
        let (root_crl, ca_crl) = pki.crls(1, &[]).unwrap();
        let crls = vec![root_crl, ca_crl];
        let store =
            TrustStore::new(vec![pki.root.clone()], vec![pki.ca.clone()], crls.clone()).unwrap();
        let g22 = pki
            .agency(
                "000.00.00.G22",
                "Văn phòng Chính phủ",
                "Trần Văn Sơn",
                "Phó Chủ nhiệm",
            )
            .unwrap();
        let h41 = pki
            .agency(
                "000.00.00.H41",
                "UBND tỉnh Nghệ An",
                "Lê Thị Hoa",
                "Phó Chủ tịch",
            )
            .unwrap();
        DemoWorld {
            pki,
            crls,
            store,
            g22,
            h41,
        }
    })
}
