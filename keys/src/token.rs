//! One token: the slot it is in, its PIN, and a small pool of sessions.
//!
//! PKCS#11 sessions are not for sharing between threads (`cryptoki::Session` is `Send`, not
//! `Sync`): a caller leases one from the pool for one operation and gives it back. At most
//! [`MAX_SESSIONS`] are open per token; a caller waits for one when all are leased. Login state
//! is per token and process (PKCS#11 §5.6), so one login serves every session.
//!
//! A token drops sessions when it is removed, reset or logged out. An operation that fails
//! that way (`CKR_SESSION_HANDLE_INVALID`, `CKR_DEVICE_REMOVED`, `CKR_USER_NOT_LOGGED_IN`…)
//! empties the pool, finds the token's slot again (a token put back may be in another slot),
//! opens and logs in a new session, and is tried once more; only a second failure reaches the
//! caller. A token that is not there is [`Error::TokenNotFound`] at once: nothing waits for
//! it to come back.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use cryptoki::error::{Error as CkError, RvError};
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki::slot::Slot;

use crate::error::{Error, rv_name};
use crate::module::Module;
use crate::pin::Pin;
use crate::uri::Pkcs11Uri;

/// Most sessions open at once on one token.
pub const MAX_SESSIONS: usize = 8;

/// What chooses a token among the slots (RFC 7512 token attributes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TokenSelector {
    label: Option<String>,
    serial: Option<String>,
    manufacturer: Option<String>,
    model: Option<String>,
    slot_id: Option<u64>,
    name: String,
}

impl TokenSelector {
    pub(crate) fn of(uri: &Pkcs11Uri) -> Self {
        TokenSelector {
            label: uri.token().map(str::to_owned),
            serial: uri.serial().map(str::to_owned),
            manufacturer: uri.manufacturer().map(str::to_owned),
            model: uri.model().map(str::to_owned),
            slot_id: uri.slot_id(),
            name: uri.token_name(),
        }
    }

    fn matches(&self, slot: Slot, info: &cryptoki::slot::TokenInfo) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        eq(&self.label, info.label())
            && eq(&self.serial, info.serial_number())
            && eq(&self.manufacturer, info.manufacturer_id())
            && eq(&self.model, info.model())
            && self.slot_id.is_none_or(|id| id == slot.id())
    }
}

/// Whether a failure means the session (or the login, or the slot) is gone rather than the
/// operation refused: the pool is emptied and the operation tried once more.
pub(crate) fn session_lost(e: &CkError) -> bool {
    matches!(
        e,
        CkError::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::DeviceRemoved
                | RvError::TokenNotPresent
                | RvError::UserNotLoggedIn
                | RvError::DeviceError
                | RvError::KeyHandleInvalid
                | RvError::ObjectHandleInvalid,
            _
        )
    )
}

struct Pool {
    slot: Option<Slot>,
    idle: Vec<Session>,
    /// Sessions that exist: idle plus leased.
    open: usize,
    /// Bumped each time the pool is emptied; a session of an older generation is not kept,
    /// and key handles found in an older generation are looked up again.
    generation: u64,
}

/// A token and its sessions, shared by every key on it in this process.
pub(crate) struct Token {
    module: Arc<Module>,
    selector: TokenSelector,
    pin: Mutex<Option<Pin>>,
    /// Serialises first logins, so that two keys opened at once do not both try a PIN.
    auth: Mutex<()>,
    pool: Mutex<Pool>,
    freed: Condvar,
}

/// A session leased from the pool; back to the pool when dropped (unless the pool was emptied
/// meanwhile).
pub(crate) struct Lease<'a> {
    token: &'a Token,
    session: Option<Session>,
    pub(crate) generation: u64,
    keep: bool,
}

impl Lease<'_> {
    pub(crate) fn session(&self) -> &Session {
        // Set at construction, taken only in Drop.
        self.session
            .as_ref()
            .unwrap_or_else(|| unreachable!("a lease holds its session until dropped"))
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut pool = self.token.lock_pool();
        match self.session.take() {
            Some(s) if self.keep && pool.generation == self.generation => pool.idle.push(s),
            _ => pool.open = pool.open.saturating_sub(1),
        }
        drop(pool);
        self.token.freed.notify_one();
    }
}

/// How a token operation failed.
pub(crate) enum OpFailure {
    /// Before the operation: the token, its PIN, a session.
    Setup(Error),
    /// The operation itself (after one retry if the session was lost).
    Call(CkError),
}

impl Token {
    pub(crate) fn new(module: Arc<Module>, selector: TokenSelector) -> Self {
        Token {
            module,
            selector,
            pin: Mutex::new(None),
            auth: Mutex::new(()),
            pool: Mutex::new(Pool {
                slot: None,
                idle: Vec::new(),
                open: 0,
                generation: 0,
            }),
            freed: Condvar::new(),
        }
    }

    pub(crate) fn selector(&self) -> &TokenSelector {
        &self.selector
    }

    /// How messages name the token.
    pub(crate) fn name(&self) -> &str {
        &self.selector.name
    }

    pub(crate) fn module(&self) -> &Module {
        &self.module
    }

    fn lock_pool(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn device(&self, e: &CkError) -> Error {
        let (rv, op) = rv_name(e);
        Error::Device {
            token: self.name().to_owned(),
            op,
            rv,
        }
    }

    /// Makes sure this process is logged in to the token with `pin` (or holds no PIN where the
    /// token needs none). A PIN other than the one this process already logged in with is
    /// [`Error::WrongPin`], although the token would not check it again.
    pub(crate) fn authenticate(&self, pin: Option<Pin>) -> Result<(), Error> {
        let _serial = self.auth.lock().unwrap_or_else(|p| p.into_inner());
        {
            let mut stored = self.pin.lock().unwrap_or_else(|p| p.into_inner());
            match (stored.as_ref(), pin) {
                (Some(s), Some(given)) => {
                    return if s.same_as(&given) {
                        Ok(())
                    } else {
                        Err(Error::WrongPin {
                            token: self.name().to_owned(),
                        })
                    };
                }
                (Some(_), None) => return Ok(()),
                (None, given) => *stored = given,
            }
        }
        // A first session logs in with the PIN just stored; a refused PIN is forgotten.
        match self.lease() {
            Ok(_lease) => Ok(()),
            Err(e) => {
                *self.pin.lock().unwrap_or_else(|p| p.into_inner()) = None;
                Err(e)
            }
        }
    }

    /// Runs `op` on a leased session. A lost session is replaced and `op` tried once more.
    pub(crate) fn run<T>(
        &self,
        mut op: impl FnMut(&Lease<'_>) -> Result<T, CkError>,
    ) -> Result<T, OpFailure> {
        let mut tried = false;
        loop {
            let mut lease = self.lease().map_err(OpFailure::Setup)?;
            match op(&lease) {
                Ok(v) => return Ok(v),
                Err(e) if session_lost(&e) && !tried => {
                    tracing::warn!(
                        token = self.name(),
                        error = %rv_name(&e).0,
                        "PKCS#11 session lost; reopening"
                    );
                    lease.keep = false;
                    drop(lease);
                    self.reset();
                    tried = true;
                }
                Err(e) => {
                    if session_lost(&e) {
                        lease.keep = false;
                    }
                    return Err(OpFailure::Call(e));
                }
            }
        }
    }

    /// Runs `op` on a fresh read-write session (key generation), outside the pool.
    pub(crate) fn run_rw<T>(
        &self,
        op: impl FnOnce(&Session) -> Result<T, CkError>,
    ) -> Result<T, OpFailure> {
        let slot = self.slot().map_err(OpFailure::Setup)?;
        let session = self
            .module
            .ctx
            .open_rw_session(slot)
            .map_err(|e| OpFailure::Setup(self.device(&e)))?;
        self.login(&session).map_err(OpFailure::Setup)?;
        op(&session).map_err(OpFailure::Call)
    }

    /// Empties the pool: its sessions are closed, the slot is looked up again.
    pub(crate) fn reset(&self) {
        let mut pool = self.lock_pool();
        let closed = pool.idle.len();
        pool.idle.clear();
        pool.open = pool.open.saturating_sub(closed);
        pool.slot = None;
        pool.generation += 1;
        drop(pool);
        self.freed.notify_all();
    }

    /// A session from the pool, or a new one (logged in) if fewer than [`MAX_SESSIONS`] are
    /// open; else waits for one to come back.
    pub(crate) fn lease(&self) -> Result<Lease<'_>, Error> {
        let mut pool = self.lock_pool();
        loop {
            if let Some(session) = pool.idle.pop() {
                return Ok(Lease {
                    token: self,
                    session: Some(session),
                    generation: pool.generation,
                    keep: true,
                });
            }
            if pool.open < MAX_SESSIONS {
                pool.open += 1;
                break;
            }
            pool = self.freed.wait(pool).unwrap_or_else(|p| p.into_inner());
        }
        let generation = pool.generation;
        drop(pool);
        match self.open_session() {
            Ok(session) => Ok(Lease {
                token: self,
                session: Some(session),
                generation,
                keep: true,
            }),
            Err(e) => {
                let mut pool = self.lock_pool();
                pool.open = pool.open.saturating_sub(1);
                drop(pool);
                self.freed.notify_one();
                Err(e)
            }
        }
    }

    fn open_session(&self) -> Result<Session, Error> {
        let slot = self.slot()?;
        let session = match self.module.ctx.open_ro_session(slot) {
            Ok(s) => s,
            Err(e) if session_lost(&e) || slot_gone(&e) => {
                // The token moved or went: look once more, then say it is absent.
                self.lock_pool().slot = None;
                let slot = self.slot()?;
                self.module
                    .ctx
                    .open_ro_session(slot)
                    .map_err(|e| self.device(&e))?
            }
            Err(e) => return Err(self.device(&e)),
        };
        self.login(&session)?;
        Ok(session)
    }

    /// Logs the process in through `session` unless it already is, with the stored PIN.
    fn login(&self, session: &Session) -> Result<(), Error> {
        let state = session
            .get_session_info()
            .map_err(|e| self.device(&e))?
            .session_state();
        if matches!(state, SessionState::RoUser | SessionState::RwUser) {
            return Ok(());
        }
        let pin = self
            .pin
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(Pin::try_clone);
        let Some(pin) = pin else {
            let info = self.slot().and_then(|s| {
                self.module
                    .ctx
                    .get_token_info(s)
                    .map_err(|e| self.device(&e))
            })?;
            if info.login_required() {
                return Err(Error::NoPin {
                    token: self.name().to_owned(),
                });
            }
            return Ok(());
        };
        match session.login(UserType::User, Some(&pin.auth())) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
            Err(CkError::Pkcs11(
                RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange,
                _,
            )) => Err(Error::WrongPin {
                token: self.name().to_owned(),
            }),
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(Error::PinLocked {
                token: self.name().to_owned(),
            }),
            Err(e) => Err(self.device(&e)),
        }
    }

    /// The slot holding the token: the one found before, or a fresh look through every slot
    /// with a token present.
    pub(crate) fn slot(&self) -> Result<Slot, Error> {
        if let Some(s) = self.lock_pool().slot {
            return Ok(s);
        }
        let ctx = &self.module.ctx;
        let listing = crate::module::slot_list_lock();
        let slots = ctx.get_slots_with_token().map_err(|e| self.device(&e))?;
        let mut present = Vec::new();
        let mut found = None;
        for slot in slots {
            let Ok(info) = ctx.get_token_info(slot) else {
                continue;
            };
            if found.is_none() && info.token_initialized() && self.selector.matches(slot, &info) {
                found = Some(slot);
            }
            if info.token_initialized() {
                present.push(info.label().to_owned());
            }
        }
        drop(listing);
        let slot = found.ok_or_else(|| Error::TokenNotFound {
            token: self.name().to_owned(),
            present,
        })?;
        self.lock_pool().slot = Some(slot);
        Ok(slot)
    }
}

fn slot_gone(e: &CkError) -> bool {
    matches!(
        e,
        CkError::Pkcs11(
            RvError::SlotIdInvalid | RvError::TokenNotRecognized | RvError::TokenNotPresent,
            _
        )
    )
}
