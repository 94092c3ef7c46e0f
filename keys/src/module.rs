//! PKCS#11 modules: each loaded and `C_Initialize`d once per process, never finalised.
//!
//! Two known traps of PKCS#11 are avoided here: calling `C_Initialize` twice (or twice in
//! parallel) for one module, and finalising a module another part of the process still uses.
//! The registry below is the process's only way to a module: the first caller loads and
//! initialises it under the registry's lock, later callers get the same context.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::RvError;

use crate::error::{Error, rv_name};
use crate::token::{Token, TokenSelector};

/// The environment variable naming the PKCS#11 module when a URI has no `module-path`.
pub const MODULE_ENV: &str = "AXIS_PKCS11_MODULE";

/// Every module this process has loaded.
static MODULES: OnceLock<Mutex<Vec<Arc<Module>>>> = OnceLock::new();

/// One look through the slot list at a time in this process (every module). SoftHSM 2 adds the
/// tokens it finds to its slot table while answering `C_GetSlotList`, with no lock of its own:
/// two threads listing at once can add the same token twice, and the module aborts the whole
/// process (`SlotManager::insertToken` assertion `result.second`, seen in CI while tests
/// opened tokens in parallel). Listings are rare (once per token and process), so every
/// listing, and every initialisation, takes this lock.
pub(crate) static SLOT_LIST: Mutex<()> = Mutex::new(());

/// Holds this process's slot-list lock: code that lists the slots of a module this crate also
/// uses (with its own `cryptoki` context, say) must hold it meanwhile, for the reason on
/// [`SLOT_LIST`].
pub fn slot_list_lock() -> std::sync::MutexGuard<'static, ()> {
    SLOT_LIST.lock().unwrap_or_else(|p| p.into_inner())
}

/// A loaded, initialised PKCS#11 module and the tokens used through it.
pub(crate) struct Module {
    path: PathBuf,
    pub(crate) ctx: Pkcs11,
    tokens: Mutex<Vec<Arc<Token>>>,
}

impl Module {
    /// The module at `path` (or [`MODULE_ENV`]'s when `None`), loaded and initialised on first
    /// use.
    pub(crate) fn get(path: Option<&Path>) -> Result<Arc<Module>, Error> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => std::env::var_os(MODULE_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .ok_or(Error::NoModule)?,
        };
        // One entry per file, however it is spelled.
        let path = std::fs::canonicalize(&path).map_err(|e| Error::ModuleLoad {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        let registry = MODULES.get_or_init(|| Mutex::new(Vec::new()));
        let mut modules = registry.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = modules.iter().find(|m| m.path == path) {
            return Ok(m.clone());
        }
        let ctx = Pkcs11::new(&path).map_err(|e| Error::ModuleLoad {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) => {}
            // Another library in this process initialised it first: the context is usable.
            Err(cryptoki::error::Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => {
                return Err(Error::ModuleInit {
                    path,
                    rv: rv_name(&e).0,
                });
            }
        }
        tracing::debug!(module = %path.display(), "PKCS#11 module initialised");
        let module = Arc::new(Module {
            path,
            ctx,
            tokens: Mutex::new(Vec::new()),
        });
        modules.push(module.clone());
        Ok(module)
    }

    /// The module's file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The shared handle of the token `selector` names: one session pool and one login per
    /// token, whatever number of keys are used on it.
    pub(crate) fn token(self: &Arc<Self>, selector: TokenSelector) -> Arc<Token> {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = tokens.iter().find(|t| t.selector() == &selector) {
            return t.clone();
        }
        let token = Arc::new(Token::new(self.clone(), selector));
        tokens.push(token.clone());
        token
    }
}
