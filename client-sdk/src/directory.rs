//! The axis directory (agencies and their certificates), the operator's administration calls,
//! and the axis's limits.

use axis_pki::AgencyId;
use axis_proto::v1 as pb;
use time::OffsetDateTime;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::nodes::{self, Retry};

/// One agency as the directory lists it. The certificates are as the axis sent them:
/// [`Client::send`] verifies the encryption certificate before using it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgencyInfo {
    /// The agency id.
    pub agency_id: AgencyId,
    /// Official name.
    pub name: String,
    /// Parent unit, if any.
    pub parent_id: Option<AgencyId>,
    /// Its agency-encryption certificate (DER).
    pub encryption_certificate: Vec<u8>,
    /// Its agency-seal certificate (DER).
    pub seal_certificate: Vec<u8>,
    /// When the entry last changed.
    pub updated_at: Option<OffsetDateTime>,
}

/// A page of [`Client::list_agencies`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AgencyPage {
    /// This page, ordered by agency id.
    pub agencies: Vec<AgencyInfo>,
    /// Pass as `after` for the next page; `None` at the end.
    pub next_after: Option<String>,
}

/// Changes to a registered agency ([`Client::update_agency`]); `None` keeps the current value.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AgencyUpdate {
    /// The agency to update.
    pub agency_id: AgencyId,
    /// New official name.
    pub name: Option<String>,
    /// New parent unit.
    pub parent_id: Option<AgencyId>,
    /// New encryption certificate (DER).
    pub encryption_certificate: Option<Vec<u8>>,
    /// New seal certificate (DER).
    pub seal_certificate: Option<Vec<u8>>,
}

impl AgencyUpdate {
    /// An update that changes nothing yet; set the fields to change.
    pub fn new(agency_id: AgencyId) -> Self {
        AgencyUpdate {
            agency_id,
            name: None,
            parent_id: None,
            encryption_certificate: None,
            seal_certificate: None,
        }
    }
}

/// What [`Client::publish_crl`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CrlPublished {
    /// The CRL number now in force for that CA.
    pub crl_number: u64,
    /// How many certificates it lists as revoked.
    pub revoked: u64,
    /// How many revocations it added, each now an entry of the axis's log.
    pub revocations_logged: u64,
}

/// The limits the axis enforces on every caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest ciphertext of one document, in bytes.
    pub max_document_bytes: u64,
    /// Most recipients of one document.
    pub max_recipients: u32,
    /// Largest `chunk` message of an upload, in bytes.
    pub max_chunk_bytes: u32,
    /// Most concurrent streams per agency.
    pub max_streams_per_agency: u32,
    /// Sustained calls per second per agency.
    pub rate_per_agency: u32,
    /// Largest burst of calls per agency.
    pub burst_per_agency: u32,
}

/// Largest CRL or certificate file the SDK sends.
const MAX_DER: usize = 1024 * 1024;

impl Client {
    /// Looks one agency up.
    pub async fn lookup_agency(&self, agency: &AgencyId) -> Result<AgencyInfo> {
        self.lookup_agency_with(agency, nodes::Attempts::new(self.nodes().len()))
            .await
    }

    /// [`Client::lookup_agency`] with a given number of attempts.
    pub(crate) async fn lookup_agency_with(
        &self,
        agency: &AgencyId,
        attempts: nodes::Attempts,
    ) -> Result<AgencyInfo> {
        let request = pb::LookupAgencyRequest {
            agency_id: agency.to_string(),
        };
        let n = self.nodes();
        let a = n
            .unary(
                &format!("look up agency {agency}"),
                Retry::Always,
                n.timeouts.call,
                attempts,
                |ch| {
                    let request = request.clone();
                    async move { nodes::directory(ch).lookup_agency(request).await }
                },
            )
            .await?;
        let info = AgencyInfo::try_from(a)?;
        if &info.agency_id != agency {
            return Err(Error::verification(format!(
                "asked the directory for {agency}, it answered with {}",
                info.agency_id
            )));
        }
        Ok(info)
    }

    /// Forgets every directory entry cached for sealing ([`crate::CachePolicy`]): the next
    /// documents look their recipients up again.
    pub fn forget_directory(&self) {
        self.inner.directory_cache.clear();
    }

    /// One page of the directory, after the agency id `after` (`None` for the first page).
    pub async fn list_agencies(&self, after: Option<&str>, page_size: u32) -> Result<AgencyPage> {
        let request = pb::ListAgenciesRequest {
            page_size,
            after_agency_id: after.unwrap_or_default().to_owned(),
        };
        let r = self
            .call("list agencies", Retry::Always, |ch| {
                let request = request.clone();
                async move { nodes::directory(ch).list_agencies(request).await }
            })
            .await?;
        AgencyPage::try_from(r)
    }

    /// The whole directory, page by page (stops if the axis repeats a page).
    pub async fn list_all_agencies(&self) -> Result<Vec<AgencyInfo>> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.list_agencies(after.as_deref(), 500).await?;
            all.extend(page.agencies);
            match page.next_after {
                Some(next) if after.as_deref().is_none_or(|a| next.as_str() > a) => {
                    after = Some(next)
                }
                Some(_) => {
                    return Err(Error::verification(
                        "the directory's paging does not advance",
                    ));
                }
                None => return Ok(all),
            }
        }
    }

    /// Registers an agency (operator only). Both certificates must be bound to `agency_id`.
    pub async fn register_agency(
        &self,
        agency_id: &AgencyId,
        name: &str,
        parent: Option<&AgencyId>,
        encryption_cert_der: Vec<u8>,
        seal_cert_der: Vec<u8>,
    ) -> Result<AgencyInfo> {
        if name.trim().is_empty() {
            return Err(Error::invalid("the agency's name is empty"));
        }
        check_der_size(&encryption_cert_der, "encryption certificate")?;
        check_der_size(&seal_cert_der, "seal certificate")?;
        let request = pb::RegisterAgencyRequest {
            agency_id: agency_id.to_string(),
            name: name.to_owned(),
            encryption_certificate: encryption_cert_der,
            seal_certificate: seal_cert_der,
            parent_id: parent.map(ToString::to_string).unwrap_or_default(),
        };
        let a = self
            .call(
                &format!("register agency {agency_id}"),
                Retry::IfNotSent,
                |ch| {
                    let request = request.clone();
                    async move { nodes::directory(ch).register_agency(request).await }
                },
            )
            .await?;
        AgencyInfo::try_from(a)
    }

    /// Changes a registered agency (operator only).
    pub async fn update_agency(&self, update: AgencyUpdate) -> Result<AgencyInfo> {
        for c in [&update.encryption_certificate, &update.seal_certificate]
            .into_iter()
            .flatten()
        {
            check_der_size(c, "certificate")?;
        }
        let id = update.agency_id.to_string();
        let request = pb::UpdateAgencyRequest {
            agency_id: id.clone(),
            name: update.name.unwrap_or_default(),
            encryption_certificate: update.encryption_certificate.unwrap_or_default(),
            seal_certificate: update.seal_certificate.unwrap_or_default(),
            parent_id: update.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        };
        let a = self
            .call(&format!("update agency {id}"), Retry::IfNotSent, |ch| {
                let request = request.clone();
                async move { nodes::directory(ch).update_agency(request).await }
            })
            .await?;
        AgencyInfo::try_from(a)
    }

    /// Publishes a newer CRL (DER) of a CA the axis knows (operator only). The client's own
    /// trust store is refreshed at once.
    pub async fn publish_crl(&self, crl_der: Vec<u8>) -> Result<CrlPublished> {
        check_der_size(&crl_der, "CRL")?;
        let request = pb::PublishCrlRequest { crl: crl_der };
        let r = self
            .call("publish CRL", Retry::IfNotSent, |ch| {
                let request = request.clone();
                async move { nodes::directory(ch).publish_crl(request).await }
            })
            .await?;
        self.refresh_trust().await?;
        Ok(r.into())
    }
}

fn check_der_size(der: &[u8], what: &str) -> Result<()> {
    if der.is_empty() {
        return Err(Error::invalid(format!("the {what} is empty")));
    }
    if der.len() > MAX_DER {
        return Err(Error::invalid(format!(
            "the {what} is {} bytes; the limit is {MAX_DER}",
            der.len()
        )));
    }
    Ok(())
}
