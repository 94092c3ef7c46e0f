//! The two-step send: the person with authority signs on a token in the DMS's world, not at
//! the gateway.
//!
//! 1. **Prepare** ([`prepare`]): the DMS hands over the document (an edXML package, or JSON
//!    metadata with attachments: [`crate::submission`]); the gateway
//!    checks it as the outbox does (step 1), looks the recipients up and encodes the manifest,
//!    and answers with a handle, the manifest's exact bytes (what the person signs: a detached
//!    CMS SignedData over them, FORMATS.md §5) and what they say. Nothing is queued.
//! 2. For a signer that makes only raw signatures, [`to_be_signed`] takes the person's
//!    certificate and answers with the exact bytes a raw signature covers (the CMS signed
//!    attributes over the manifest, with a signing time the gateway fixes).
//! 3. **Complete** ([`complete`]): the DMS sends the signature (the CMS, or the raw value after
//!    step 2). The gateway verifies it against the personal-signer profile, the trust store,
//!    the sender agency and the signer the manifest names; a refused signature is answered
//!    with its own reason, and nothing is queued (the prepared send stays until it expires,
//!    so a corrected signature can follow). A verified one is sealed and joins the outbox.
//!
//! Prepared sends live in memory, bounded in number ([`MAX_PREPARED`]) and bytes
//! ([`MAX_PREPARED_BYTES`]), and are forgotten after [`PREPARED_TTL`] or a restart: nothing was
//! promised to the DMS until step 3 answered with an id, so a lost one is prepared again.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axis_client::{ExternalSignature, MessageId, PreparedDocument};
use axis_proto::reasons::gateway as gw;
use axum::http::StatusCode;
use time::OffsetDateTime;

use crate::error::Refusal;
use crate::outbox::{Accepted, keep_sealed};
use crate::service::Gateway;
use crate::store::kind;
use crate::submission::Submission;

/// How long a prepared send waits for its personal signature.
pub const PREPARED_TTL: Duration = Duration::from_secs(15 * 60);
/// Most prepared sends kept at once.
pub const MAX_PREPARED: usize = 64;
/// Most bytes of packages kept in prepared sends at once.
pub const MAX_PREPARED_BYTES: u64 = 256 << 20;

/// One prepared send.
#[derive(Clone)]
struct Entry {
    system: String,
    document: PreparedDocument,
    digest: [u8; 32],
    recipients: String,
    code: String,
    subject: String,
    bytes: u64,
    expires: Instant,
    /// The certificate (DER) and signing time given out by [`to_be_signed`].
    raw: Option<(Vec<u8>, OffsetDateTime)>,
}

/// The prepared sends of one gateway.
#[derive(Default)]
pub struct Prepared {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Prepared {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves a consistent map (every change is one insert or
        // remove), so a poisoned lock is used as it is.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many are waiting (expired ones dropped first).
    pub fn len(&self) -> usize {
        let mut map = self.lock();
        drop_expired(&mut map, Instant::now());
        map.len()
    }

    /// Whether none is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn insert(&self, handle: String, entry: Entry) -> Result<(), Refusal> {
        let mut map = self.lock();
        drop_expired(&mut map, Instant::now());
        let bytes: u64 = map.values().map(|e| e.bytes).sum();
        if map.len() >= MAX_PREPARED || bytes + entry.bytes > MAX_PREPARED_BYTES {
            return Err(Refusal::new(
                gw::PREPARED_FULL,
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "this gateway keeps at most {MAX_PREPARED} prepared sends and \
                     {MAX_PREPARED_BYTES} bytes of them; complete some or let them expire"
                ),
            ));
        }
        map.insert(handle, entry);
        Ok(())
    }

    fn get(&self, handle: &str, system: &str) -> Result<Entry, Refusal> {
        let mut map = self.lock();
        drop_expired(&mut map, Instant::now());
        map.get(handle)
            .filter(|e| e.system == system)
            .cloned()
            .ok_or_else(|| unknown(handle))
    }

    fn set_raw(&self, handle: &str, raw: (Vec<u8>, OffsetDateTime)) -> Result<(), Refusal> {
        let mut map = self.lock();
        let e = map.get_mut(handle).ok_or_else(|| unknown(handle))?;
        e.raw = Some(raw);
        Ok(())
    }

    fn remove(&self, handle: &str) {
        self.lock().remove(handle);
    }
}

fn drop_expired(map: &mut HashMap<String, Entry>, now: Instant) {
    map.retain(|_, e| e.expires > now);
}

fn unknown(handle: &str) -> Refusal {
    Refusal::new(
        gw::PREPARED_UNKNOWN,
        StatusCode::NOT_FOUND,
        format!(
            "no prepared send {handle}: never made, already completed, or expired (after {} \
             minutes); prepare it again",
            PREPARED_TTL.as_secs() / 60
        ),
    )
}

/// What step 1 answers.
pub enum PrepareAnswer {
    /// The same package was sent before by this system: its id, nothing prepared.
    Repeat(Accepted),
    /// Waiting for the person's signature.
    Ready {
        /// The handle to complete it with.
        handle: String,
        /// The manifest bytes to sign.
        manifest: Vec<u8>,
        /// Its DocumentId.
        document_id: String,
        /// The signer the manifest names (the certificate's holder must be this person).
        signer_name: String,
        /// The position it names (the certificate's title, when it has one).
        signer_position: String,
        /// Until when the gateway waits.
        expires_in: Duration,
    },
}

/// Step 1.
pub async fn prepare(
    gw_: &Arc<Gateway>,
    system: &str,
    submission: &Submission,
    bytes: u64,
    to: Option<Vec<axis_client::AgencyId>>,
) -> Result<PrepareAnswer, Refusal> {
    let c = crate::outbox::check_edoc(gw_, submission, to)?;
    if let Some(id) = gw_.db.outbox_find(system, kind::EDOC, &c.digest).await? {
        return Ok(PrepareAnswer::Repeat(Accepted { id, repeat: true }));
    }
    let message_id =
        MessageId::random().map_err(|e| Refusal::internal("choosing a message id", e))?;
    let document = gw_
        .client
        .prepare(c.doc.message_id(message_id))
        .await
        .map_err(|e| Refusal::from_sdk("preparing the document", &e))?;
    let m = document.manifest();
    let handle = message_id.to_string();
    let answer = PrepareAnswer::Ready {
        handle: handle.clone(),
        manifest: m.as_bytes().to_vec(),
        document_id: m.document_id().to_string(),
        signer_name: m.manifest().signer.full_name.clone(),
        signer_position: m.manifest().signer.position.clone(),
        expires_in: PREPARED_TTL,
    };
    gw_.prepared.insert(
        handle,
        Entry {
            system: system.to_owned(),
            document,
            digest: c.digest,
            recipients: c.recipients,
            code: c.code,
            subject: c.subject,
            bytes,
            expires: Instant::now() + PREPARED_TTL,
            raw: None,
        },
    )?;
    Ok(answer)
}

/// Step 2: the bytes a raw signature by `certificate` (DER) covers, and the signing time they
/// state.
pub async fn to_be_signed(
    gw_: &Arc<Gateway>,
    system: &str,
    handle: &str,
    certificate: Vec<u8>,
) -> Result<(Vec<u8>, OffsetDateTime), Refusal> {
    let entry = gw_.prepared.get(handle, system)?;
    // Whole seconds: the CMS signing time has no fraction.
    let now = OffsetDateTime::now_utc();
    let at = now.replace_nanosecond(0).unwrap_or(now);
    let tbs = gw_
        .client
        .to_be_signed(&entry.document, &certificate, at)
        .await
        .map_err(|e| Refusal::from_sdk("the personal certificate", &e))?;
    gw_.prepared.set_raw(handle, (certificate, at))?;
    Ok((tbs, at))
}

/// The person's signature, as the DMS sends it.
pub enum Signature {
    /// A detached CMS SignedData over the manifest bytes.
    Cms(Vec<u8>),
    /// A raw signature over what [`to_be_signed`] returned.
    Raw(Vec<u8>),
}

/// Step 3.
pub async fn complete(
    gw_: &Arc<Gateway>,
    system: &str,
    handle: &str,
    signature: Signature,
) -> Result<Accepted, Refusal> {
    crate::outbox::refuse_if_inconsistent(gw_)?;
    let entry = gw_.prepared.get(handle, system)?;
    let external = match signature {
        Signature::Cms(cms) => ExternalSignature::Cms(cms),
        Signature::Raw(signature) => {
            let (certificate, signing_time) = entry.raw.clone().ok_or_else(|| {
                Refusal::malformed(
                    "a raw signature needs the bytes to sign first: POST the person's \
                     certificate to this prepared send's to-be-signed",
                )
            })?;
            ExternalSignature::Raw {
                certificate,
                signing_time,
                signature,
            }
        }
    };
    let sealed = gw_
        .client
        .seal_prepared(entry.document.clone(), external)
        .await
        .map_err(|e| Refusal::from_sdk("the personal signature", &e))?;
    let accepted = keep_sealed(
        gw_,
        system,
        &entry.digest,
        &sealed,
        entry.recipients,
        entry.code,
        entry.subject,
    )
    .await?;
    gw_.prepared.remove(handle);
    Ok(accepted)
}
