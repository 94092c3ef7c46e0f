//! `axis.v1.Directory`: agencies and their certificates, trust material, CRL publication.

use std::sync::Arc;

use axis_pki::{AgencyId, Profile};
use axis_proto::v1 as pb;
use time::OffsetDateTime;
use tonic::{Request, Response, Status};

use super::{App, convert, require_operator, units};
use crate::error::{Result, ServerError};
use crate::store::AgencyRow;

/// Longest agency name accepted (edXML OrganName).
const MAX_NAME_CHARS: usize = 200;
/// Largest page of `ListAgencies`.
const MAX_PAGE: u32 = 500;

/// The Directory service.
pub(crate) struct DirectoryService {
    app: Arc<App>,
}

impl DirectoryService {
    /// Over the shared application state.
    pub(crate) fn new(app: Arc<App>) -> Self {
        DirectoryService { app }
    }

    /// This node and the others forget what they cached of the directory.
    async fn directory_changed(&self) -> Result<()> {
        self.app.encryption_ids.clear();
        crate::notify::announce_directory_change(&self.app.db).await
    }

    fn parse_id(what: &'static str, s: &str) -> Result<AgencyId> {
        AgencyId::parse(s).map_err(|e| ServerError::malformed(what, e))
    }

    fn check_name(name: &str) -> Result<()> {
        let n = name.chars().count();
        if n == 0 || n > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(ServerError::Malformed {
                what: "name",
                detail: format!("must be 1–{MAX_NAME_CHARS} characters without control characters"),
            });
        }
        Ok(())
    }

    /// The certificate verifies now for `profile` and is bound to `agency`.
    fn check_cert(
        &self,
        what: &'static str,
        der: &[u8],
        profile: Profile,
        agency: &AgencyId,
    ) -> Result<()> {
        let store = self.app.trust.store();
        let v = store
            .verify(der, profile, OffsetDateTime::now_utc())
            .map_err(|e| ServerError::BadCertificate {
                what,
                detail: e.to_string(),
            })?;
        if v.agency_id() != Some(agency) {
            return Err(ServerError::BadCertificate {
                what,
                detail: format!(
                    "it is bound to {}, not to {agency}",
                    v.agency_id()
                        .map_or("no agency".to_owned(), |a| a.to_string())
                ),
            });
        }
        Ok(())
    }
}

#[tonic::async_trait]
impl pb::directory_server::Directory for DirectoryService {
    type GetDirectorySnapshotStream = units::PageStream;
    type GetDirectoryChangesStream = units::PageStream;

    async fn import_units(
        &self,
        req: Request<tonic::Streaming<pb::ImportUnitsRequest>>,
    ) -> std::result::Result<Response<pb::ImportUnitsResponse>, Status> {
        Ok(Response::new(units::import(&self.app, req).await?))
    }

    async fn get_directory_snapshot(
        &self,
        req: Request<pb::GetDirectorySnapshotRequest>,
    ) -> std::result::Result<Response<Self::GetDirectorySnapshotStream>, Status> {
        Ok(Response::new(units::snapshot(self.app.clone(), req).await?))
    }

    async fn get_directory_changes(
        &self,
        req: Request<pb::GetDirectoryChangesRequest>,
    ) -> std::result::Result<Response<Self::GetDirectoryChangesStream>, Status> {
        Ok(Response::new(units::changes(self.app.clone(), req).await?))
    }

    async fn lookup_unit(
        &self,
        req: Request<pb::LookupUnitRequest>,
    ) -> std::result::Result<Response<pb::DirectoryUnit>, Status> {
        Ok(Response::new(units::lookup(&self.app, req).await?))
    }

    async fn list_units(
        &self,
        req: Request<pb::ListUnitsRequest>,
    ) -> std::result::Result<Response<pb::ListUnitsResponse>, Status> {
        Ok(Response::new(units::list(&self.app, req).await?))
    }

    async fn lookup_agency(
        &self,
        req: Request<pb::LookupAgencyRequest>,
    ) -> std::result::Result<Response<pb::Agency>, Status> {
        self.app.any_call(&req)?;
        let id = Self::parse_id("agency id", &req.get_ref().agency_id)?;
        let row = self
            .app
            .db
            .agency(id.as_str())
            .await?
            .ok_or_else(|| ServerError::AgencyNotFound(id.to_string()))?;
        Ok(Response::new(convert::agency(row)))
    }

    async fn list_agencies(
        &self,
        req: Request<pb::ListAgenciesRequest>,
    ) -> std::result::Result<Response<pb::ListAgenciesResponse>, Status> {
        self.app.any_call(&req)?;
        let r = req.into_inner();
        let size = match r.page_size {
            0 => 100,
            n => n.min(MAX_PAGE),
        };
        if r.after_agency_id.len() > 64 {
            return Err(ServerError::malformed("after_agency_id", "too long").into());
        }
        let rows = self.app.db.agencies(&r.after_agency_id, size).await?;
        let next = if rows.len() as u32 == size {
            rows.last().map(|a| a.agency_id.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListAgenciesResponse {
            agencies: rows.into_iter().map(convert::agency).collect(),
            next_after_agency_id: next,
        }))
    }

    async fn register_agency(
        &self,
        req: Request<pb::RegisterAgencyRequest>,
    ) -> std::result::Result<Response<pb::Agency>, Status> {
        let caller = self.app.any_call(&req)?;
        require_operator(&caller)?;
        let r = req.into_inner();
        let id = Self::parse_id("agency id", &r.agency_id)?;
        Self::check_name(&r.name)?;
        if !r.parent_id.is_empty() {
            Self::parse_id("parent id", &r.parent_id)?;
        }
        self.check_cert(
            "encryption",
            &r.encryption_certificate,
            Profile::AgencyEncryption,
            &id,
        )?;
        self.check_cert("seal", &r.seal_certificate, Profile::AgencySeal, &id)?;
        let row = AgencyRow {
            agency_id: id.to_string(),
            name: r.name,
            parent_id: r.parent_id,
            encryption_cert: r.encryption_certificate,
            seal_cert: r.seal_certificate,
            updated_at: OffsetDateTime::now_utc(),
        };
        if !self.app.db.insert_agency(&row).await? {
            return Err(ServerError::AgencyExists(id.to_string()).into());
        }
        self.directory_changed().await?;
        tracing::info!(agency = %id, operator = %caller.subject, "agency registered");
        Ok(Response::new(convert::agency(row)))
    }

    async fn update_agency(
        &self,
        req: Request<pb::UpdateAgencyRequest>,
    ) -> std::result::Result<Response<pb::Agency>, Status> {
        let caller = self.app.any_call(&req)?;
        require_operator(&caller)?;
        let r = req.into_inner();
        let id = Self::parse_id("agency id", &r.agency_id)?;
        let mut row = self
            .app
            .db
            .agency(id.as_str())
            .await?
            .ok_or_else(|| ServerError::AgencyNotFound(id.to_string()))?;
        if !r.name.is_empty() {
            Self::check_name(&r.name)?;
            row.name = r.name;
        }
        if !r.parent_id.is_empty() {
            Self::parse_id("parent id", &r.parent_id)?;
            row.parent_id = r.parent_id;
        }
        if !r.encryption_certificate.is_empty() {
            self.check_cert(
                "encryption",
                &r.encryption_certificate,
                Profile::AgencyEncryption,
                &id,
            )?;
            row.encryption_cert = r.encryption_certificate;
        }
        if !r.seal_certificate.is_empty() {
            self.check_cert("seal", &r.seal_certificate, Profile::AgencySeal, &id)?;
            row.seal_cert = r.seal_certificate;
        }
        row.updated_at = OffsetDateTime::now_utc();
        if !self.app.db.update_agency(&row).await? {
            return Err(ServerError::AgencyNotFound(id.to_string()).into());
        }
        self.directory_changed().await?;
        tracing::info!(agency = %id, operator = %caller.subject, "agency updated");
        Ok(Response::new(convert::agency(row)))
    }

    async fn get_trust_material(
        &self,
        req: Request<pb::GetTrustMaterialRequest>,
    ) -> std::result::Result<Response<pb::TrustMaterial>, Status> {
        self.app.any_call(&req)?;
        let store = self.app.trust.store();
        let mut crls = store.crls().to_vec();
        if req.get_ref().history {
            for der in self.app.db.crls().await? {
                if !crls.contains(&der) {
                    crls.push(der);
                }
            }
        }
        Ok(Response::new(pb::TrustMaterial {
            intermediates: store.intermediates().to_vec(),
            crls,
        }))
    }

    /// Operator only; then `crls::publish` (budget, issuer, newer, revocations logged,
    /// stored, every node's trust rebuilt).
    async fn publish_crl(
        &self,
        req: Request<pb::PublishCrlRequest>,
    ) -> std::result::Result<Response<pb::PublishCrlResponse>, Status> {
        let caller = self.app.any_call(&req)?;
        require_operator(&caller)?;
        let der = req.into_inner().crl;
        let p = crate::crls::publish(&self.app, &der).await?;
        tracing::info!(number = p.number, revoked = p.revoked, logged = p.logged, operator = %caller.subject, "CRL published");
        Ok(Response::new(pb::PublishCrlResponse {
            crl_number: p.number,
            revoked: p.revoked as u64,
            revocations_logged: p.logged,
        }))
    }
}
