//! Completeness statements: the axis's signed word on how many statements its log holds for a
//! message, per recipient, as of one tree head — so that a history cut short is refused, and an
//! axis that signs a false count is caught by anyone holding a statement it left out.
//!
//! ```text
//! Completeness ::= SEQUENCE {
//!   format           OBJECT IDENTIFIER,         -- <AXIS_OID_ARC>.2.8
//!   version          INTEGER (1),
//!   messageId        OCTET STRING (SIZE (16)),
//!   treeSize         INTEGER,                   -- the tree head it speaks of ...
//!   rootHash         OCTET STRING (SIZE (32)),  -- ... and that head's root
//!   issuedAt         GeneralizedTime,           -- also the CMS signingTime
//!   acceptanceIndex  INTEGER,                   -- the message's acceptance entry
//!   chains           SEQUENCE SIZE (1..500) OF ChainHead }
//!
//! ChainHead ::= SEQUENCE {
//!   recipient        UTF8String,
//!   count            INTEGER,                   -- statements for (message, recipient) in the
//!                                               -- first treeSize entries of the log
//!   last             LastStatement OPTIONAL }   -- present if and only if count > 0
//!
//! LastStatement ::= SEQUENCE {
//!   leafIndex        INTEGER,
//!   receiptDigest    OCTET STRING (SIZE (32)) } -- SHA-256 of the last receipt: the chain head
//! ```
//!
//! It is signed by the axis log signer (the axis-log-signer profile, detached CMS, signing time
//! = `issuedAt`), like a tree head, and made when a history is read or a bundle exported —
//! never on the commit path. `chains` lists either every recipient of the message in the
//! routing header's order (the sender's view) or exactly one (a recipient's own view).
//!
//! **Why a lie is caught.** Within the first `treeSize` entries, the log holds one fixed set of
//! statements for (message, recipient). If the axis leaves out a statement `s` it logged at
//! index `i < treeSize`, the signed count and chain head cannot match the log: either `s`
//! comes after the claimed last statement (`i` > its index), or the claimed chain has `count`
//! statements at other indices and `s` makes one more. Whoever holds `s` with an inclusion
//! proof under a head consistent with this one proves it ([`check_misbehaviour`]): two
//! statements signed by the same log key that cannot both be true.

use std::fmt;

use axis_pki::{AgencyId, TrustStore};
use time::OffsetDateTime;

use axis_signer::cms::der;
use axis_signer::cms::{self, Format};
use axis_signer::{FormatError, KeyError, MessageId, SignatureRole, Signer};

use crate::bundle::{BundleReport, TimelineEvent};
use crate::error::{Error, LogError};
use crate::log::TreeHead;

const WHAT: &str = "completeness statement";

/// Largest completeness statement accepted (500 recipients with their chain heads).
pub const MAX_COMPLETENESS_LEN: usize = 64 * 1024;
/// Most recipients a completeness statement lists (the routing header's maximum).
const MAX_CHAINS: usize = 500;

/// The last statement of a chain, as the log holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastStatement {
    /// Its entry's position in the log.
    pub leaf_index: u64,
    /// SHA-256 of its receipt bytes: the chain head the next receipt's `previous` names.
    pub receipt_digest: [u8; 32],
}

/// What the log holds for one (message, recipient).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainHead {
    /// The recipient whose chain it is.
    pub recipient: AgencyId,
    /// How many statements the log holds for it.
    pub count: u64,
    /// The last of them (`None` exactly when `count` is 0).
    pub last: Option<LastStatement>,
}

impl ChainHead {
    /// The head of a chain whose statements are at `statements` (leaf index, receipt digest),
    /// in log order.
    pub fn of(recipient: AgencyId, statements: &[(u64, [u8; 32])]) -> Self {
        ChainHead {
            recipient,
            count: statements.len() as u64,
            last: statements
                .last()
                .map(|&(leaf_index, receipt_digest)| LastStatement {
                    leaf_index,
                    receipt_digest,
                }),
        }
    }
}

/// The statement itself (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completeness {
    /// The message.
    pub message_id: MessageId,
    /// The size of the tree head it speaks of.
    pub tree_size: u64,
    /// That head's root.
    pub root_hash: [u8; 32],
    /// When the axis made it (whole seconds, UTC); its signing time.
    pub issued_at: OffsetDateTime,
    /// The leaf index of the message's acceptance.
    pub acceptance_index: u64,
    /// Per recipient covered, what the log holds.
    pub chains: Vec<ChainHead>,
}

impl Completeness {
    pub(crate) fn encode(&self) -> Result<Vec<u8>, Error> {
        if self.chains.is_empty() || self.chains.len() > MAX_CHAINS {
            return Err(FormatError::TooMany {
                what: "chains in a completeness statement",
                found: self.chains.len(),
                max: MAX_CHAINS,
            }
            .into());
        }
        let chains: Vec<u8> = self
            .chains
            .iter()
            .map(|c| {
                let last = c.last.map(|l| {
                    der::seq(&[&der::uint(l.leaf_index), &der::octets(&l.receipt_digest)])
                });
                der::seq(&[
                    &der::utf8(c.recipient.as_str()),
                    &der::uint(c.count),
                    last.as_deref().unwrap_or_default(),
                ])
            })
            .collect::<Vec<_>>()
            .concat();
        Ok(der::seq(&[
            &der::oid(Format::Completeness.oid()),
            &der::uint(1),
            &der::octets(self.message_id.as_bytes()),
            &der::uint(self.tree_size),
            &der::octets(&self.root_hash),
            &der::generalized_time(self.issued_at)?,
            &der::uint(self.acceptance_index),
            &der::tlv(der::SEQUENCE, &chains),
        ]))
    }

    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Format::Completeness.open(bytes, WHAT)?;
        let message_id = MessageId::from_uuid(uuid::Uuid::from_bytes(r.octets()?));
        let tree_size = r.u64()?;
        let root_hash = r.octets()?;
        if r.peek_tag() != Some(der::GENERALIZED_TIME) {
            return Err(FormatError::Malformed { what: WHAT }.into());
        }
        let issued_at = r.time()?;
        let acceptance_index = r.u64()?;
        let mut list = r.sequence()?;
        let mut chains = Vec::new();
        while !list.is_empty() {
            if chains.len() == MAX_CHAINS {
                return Err(FormatError::TooMany {
                    what: "chains in a completeness statement",
                    found: chains.len() + 1,
                    max: MAX_CHAINS,
                }
                .into());
            }
            let mut c = list.sequence()?;
            let recipient = AgencyId::parse(c.utf8()?).map_err(|source| FormatError::AgencyId {
                field: "completeness recipient",
                source,
            })?;
            let count = c.u64()?;
            let last = if c.is_empty() {
                None
            } else {
                let mut l = c.sequence()?;
                let last = LastStatement {
                    leaf_index: l.u64()?,
                    receipt_digest: l.octets()?,
                };
                l.finish()?;
                Some(last)
            };
            c.finish()?;
            // `last` is there exactly when there is a statement.
            if (count == 0) != last.is_none() {
                return Err(FormatError::Malformed { what: WHAT }.into());
            }
            chains.push(ChainHead {
                recipient,
                count,
                last,
            });
        }
        r.finish()?;
        if chains.is_empty() {
            return Err(FormatError::Malformed { what: WHAT }.into());
        }
        Ok(Completeness {
            message_id,
            tree_size,
            root_hash,
            issued_at,
            acceptance_index,
            chains,
        })
    }

    /// Signs the statement with the axis log signer; the CMS signing time is `issued_at`
    /// (truncated to whole seconds).
    pub fn sign(&self, log_signer: &Signer<'_>) -> Result<SignedCompleteness, Error> {
        let role = SignatureRole::TreeHead;
        if log_signer.certificate().profile() != role.profile() {
            return Err(KeyError::WrongCertificateProfile {
                expected: role.profile(),
                found: log_signer.certificate().profile(),
            }
            .into());
        }
        let mut statement = self.clone();
        statement.issued_at = crate::log::whole_seconds(statement.issued_at)?;
        let bytes = statement.encode()?;
        let signature = cms::sign(&bytes, log_signer, statement.issued_at)?;
        Ok(SignedCompleteness {
            statement,
            bytes,
            signature,
        })
    }

    /// The chain head it states for `recipient`, if it covers that recipient.
    pub fn chain(&self, recipient: &AgencyId) -> Option<&ChainHead> {
        self.chains.iter().find(|c| &c.recipient == recipient)
    }
}

/// A completeness statement with its exact bytes and the log signer's signature (not yet
/// verified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCompleteness {
    statement: Completeness,
    bytes: Vec<u8>,
    signature: Vec<u8>,
}

impl SignedCompleteness {
    /// Parses received bytes (budget, strict DER, one byte form) and keeps the signature.
    pub fn parse(bytes: &[u8], signature: Vec<u8>) -> Result<Self, Error> {
        let statement = crate::log::parse_one_form(
            bytes,
            MAX_COMPLETENESS_LEN,
            WHAT,
            Completeness::decode,
            Completeness::encode,
        )?;
        Ok(SignedCompleteness {
            statement,
            bytes: bytes.to_vec(),
            signature,
        })
    }

    /// The statement.
    pub fn statement(&self) -> &Completeness {
        &self.statement
    }

    /// The exact bytes the signature covers.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The signature (CMS SignedData, DER, detached over the statement's bytes).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Verifies the signature at its own signing time, in the one byte form the log signer
    /// writes:
    ///
    /// 1. A detached CMS signature over the exact bytes by an axis-log-signer certificate that
    ///    chains to `store`, unrevoked at `issued_at`, whose key is `log_key` (the log an
    ///    auditor follows), with nothing outside its signed part that could vary (the low s).
    /// 2. Its signing time is `issued_at`.
    pub fn verify(
        &self,
        store: &TrustStore,
        log_key: &[u8],
    ) -> Result<VerifiedCompleteness, Error> {
        let t = self.statement.issued_at;
        let chain = crate::log::verify_log_signature(
            &self.signature,
            &self.bytes,
            store,
            t,
            Some(log_key),
            true,
            (t, LogError::CompletenessTimeMismatch),
        )?
        .chain;
        Ok(VerifiedCompleteness {
            signed: self.clone(),
            chain,
        })
    }
}

/// A completeness statement whose signature verified. Only [`SignedCompleteness::verify`]
/// makes one.
#[derive(Clone, Debug)]
pub struct VerifiedCompleteness {
    signed: SignedCompleteness,
    chain: Vec<Vec<u8>>,
}

impl VerifiedCompleteness {
    /// The statement.
    pub fn statement(&self) -> &Completeness {
        &self.signed.statement
    }

    /// The signed statement, to store or forward.
    pub fn signed(&self) -> &SignedCompleteness {
        &self.signed
    }

    /// The CA certificates above the log signer's on the verified path, the trust anchor last.
    pub(crate) fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// It speaks of exactly `head` (size and root), of `message_id`, made no earlier than the
    /// head was signed.
    pub fn check_subject(
        &self,
        message_id: &MessageId,
        head: &TreeHead,
        acceptance_index: Option<u64>,
    ) -> Result<(), Error> {
        let s = self.statement();
        let checks = [
            (&s.message_id == message_id, "message id"),
            (s.tree_size == head.tree_size, "tree size"),
            (s.root_hash == head.root_hash, "root hash"),
            (s.issued_at >= head.timestamp, "time (before its tree head)"),
            (
                acceptance_index.is_none_or(|a| a == s.acceptance_index),
                "acceptance index",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, field)) => Err(LogError::CompletenessMismatch { field }.into()),
            None => Ok(()),
        }
    }

    /// The recipients covered are every one of `recipients` in that order, or exactly one of
    /// them: which one, if only one.
    pub fn check_recipients(&self, recipients: &[AgencyId]) -> Result<Coverage, Error> {
        let listed: Vec<&AgencyId> = self
            .statement()
            .chains
            .iter()
            .map(|c| &c.recipient)
            .collect();
        if listed.len() == recipients.len() && listed.iter().zip(recipients).all(|(a, b)| *a == b) {
            return Ok(Coverage::All);
        }
        match listed.as_slice() {
            [one] if recipients.contains(one) => Ok(Coverage::Only((*one).clone())),
            _ => Err(LogError::CompletenessMismatch {
                field: "recipients (neither all of the header's, in order, nor one of them)",
            }
            .into()),
        }
    }

    /// `statements` (leaf index, receipt digest, in log order) are exactly what the log holds
    /// for `recipient`: as many as stated, the last one the stated chain head.
    pub fn check_chain(
        &self,
        recipient: &AgencyId,
        statements: &[(u64, [u8; 32])],
    ) -> Result<(), Error> {
        let s = self.statement();
        let Some(head) = s.chain(recipient) else {
            return Err(LogError::NotCovered {
                recipient: recipient.clone(),
            }
            .into());
        };
        let found = ChainHead::of(recipient.clone(), statements);
        if found.count != head.count {
            return Err(LogError::IncompleteChain {
                recipient: recipient.clone(),
                tree_size: s.tree_size,
                stated: head.count,
                found: found.count,
            }
            .into());
        }
        if found.last != head.last {
            return Err(LogError::ChainHeadMismatch {
                recipient: recipient.clone(),
                tree_size: s.tree_size,
            }
            .into());
        }
        Ok(())
    }
}

/// Whose chains a completeness statement covers.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Coverage {
    /// Every recipient of the message (the sender's view).
    All,
    /// Only this recipient (its own view).
    Only(AgencyId),
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Coverage::All => f.write_str("every recipient"),
            Coverage::Only(r) => write!(f, "{r} only (a recipient's own view)"),
        }
    }
}

/// A proof that the axis signed a false completeness statement ([`check_misbehaviour`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Misbehaviour {
    /// The recipient whose chain the statement cut short.
    pub recipient: AgencyId,
    /// The tree size the completeness statement speaks of.
    pub tree_size: u64,
    /// When the axis signed the completeness statement.
    pub issued_at: OffsetDateTime,
    /// What it says the log holds for that recipient then.
    pub stated: ChainHead,
    /// The leaf indices of the statements the claim's bundle holds for that recipient.
    pub claimed_indices: Vec<u64>,
    /// The statement left out: its leaf index (below `tree_size`), leaf hash, status and
    /// stating agency, as its log entry records them.
    pub omitted: TimelineEvent,
    /// The size of the signed tree head that proves the omitted entry's inclusion.
    pub omitted_under: u64,
}

impl fmt::Display for Misbehaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex: String = self
            .omitted
            .leaf_hash
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        write!(
            f,
            "the axis signed at {} that its log holds {} statement(s) for {} as of tree head \
             {} (the bundle shows entries {:?}); but entry {} (leaf hash {hex}: status {} stated \
             by {}), proven under a signed tree head of {} entries of the same log, is a \
             statement for {} below {} that the claim leaves out",
            self.issued_at,
            self.stated.count,
            self.recipient,
            self.tree_size,
            self.claimed_indices,
            self.omitted.leaf_index,
            self.omitted.status,
            self.omitted.stated_by,
            self.omitted_under,
            self.recipient,
            self.tree_size,
        )
    }
}

/// Checks the completeness claim of a verified bundle against another verified bundle of the
/// same message and log key (one that holds statements, proven under its own tree head), with
/// the RFC 9162 consistency proof between the two heads (empty when they have the same size).
///
/// 1. `claim` carries a completeness statement (a version 2 bundle).
/// 2. The two heads are of one log: same size and same root, or the consistency proof from the
///    smaller to the larger verifies — so every entry below the smaller size is the same leaf
///    in both. Two signed roots of one size that differ are themselves proof of a fork
///    ([`LogError::Forked`]); an invalid proof decides nothing
///    ([`LogError::ConsistencyProofInvalid`]).
/// 3. Every statement `held` holds at an index below the claim's tree size, for a recipient
///    the claim covers, must be one of the claim's statements for that recipient (the same
///    leaf index). One that is not is a statement the signed claim leaves out: the log held
///    more than the stated count (or after the stated last statement). The first per
///    recipient is returned as a [`Misbehaviour`].
///
/// Returns an empty list when nothing held contradicts the claim.
pub fn check_misbehaviour(
    claim: &BundleReport,
    held: &BundleReport,
    consistency: &[[u8; 32]],
) -> Result<Vec<Misbehaviour>, Error> {
    // Step 1.
    let Some((completeness, _)) = &claim.completeness else {
        return Err(LogError::NoCompletenessProof.into());
    };
    let s = completeness.statement();
    if held.message_id != claim.message_id {
        return Err(LogError::CompletenessMismatch {
            field: "message id (the two bundles are of different messages)",
        }
        .into());
    }
    // Step 2.
    let (c, h) = (claim.tree_head.head(), held.tree_head.head());
    if c.tree_size == h.tree_size {
        if c.root_hash != h.root_hash {
            return Err(LogError::Forked {
                tree_size: c.tree_size,
            }
            .into());
        }
    } else {
        let (small, large) = if c.tree_size < h.tree_size {
            (c, h)
        } else {
            (h, c)
        };
        axis_log::verify_consistency(
            small.tree_size,
            large.tree_size,
            &small.root_hash,
            &large.root_hash,
            consistency,
        )
        .map_err(|source| LogError::ConsistencyProofInvalid { source })?;
    }
    // Step 3.
    let mut found: Vec<Misbehaviour> = Vec::new();
    for t in &held.timelines {
        let Some(stated) = s.chain(&t.recipient) else {
            continue;
        };
        let claimed_indices: Vec<u64> = claim
            .timelines
            .iter()
            .filter(|c| c.recipient == t.recipient)
            .flat_map(|c| c.events.iter().map(|e| e.leaf_index))
            .collect();
        if let Some(omitted) = t
            .events
            .iter()
            .find(|e| e.leaf_index < s.tree_size && !claimed_indices.contains(&e.leaf_index))
        {
            found.push(Misbehaviour {
                recipient: t.recipient.clone(),
                tree_size: s.tree_size,
                issued_at: s.issued_at,
                stated: stated.clone(),
                claimed_indices,
                omitted: omitted.clone(),
                omitted_under: h.tree_size,
            });
        }
    }
    Ok(found)
}
