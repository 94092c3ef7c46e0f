//! Token initialisation, for SoftHSM and test tokens. Real tokens and HSMs are initialised with
//! their vendor's tools (and SoftHSM with `softhsm2-util --init-token`); this exists so that a
//! process can make its own tokens after its module is loaded, which an out-of-process tool
//! cannot do for it (a PKCS#11 module reads its slots when initialised).

use cryptoki::session::UserType;
use std::path::Path;

use crate::error::{Error, rv_name};
use crate::module::{Module, slot_list_lock};
use crate::pin::Pin;

/// Initialises the token of the first slot whose token is not initialised, with `label`, the
/// security officer's PIN `so_pin`, and the user PIN `user_pin`. The module is `module`, or
/// [`crate::MODULE_ENV`]'s.
pub fn init_token(
    module: Option<&Path>,
    label: &str,
    so_pin: &Pin,
    user_pin: &Pin,
) -> Result<(), Error> {
    // One initialisation at a time, and no listing meanwhile: two would race for the same free
    // slot, and SoftHSM's slot table is not safe against concurrent listings.
    let _one = slot_list_lock();
    let module = Module::get(module)?;
    let ctx = &module.ctx;
    let fail = |e: cryptoki::error::Error| {
        let (rv, op) = rv_name(&e);
        Error::Device {
            token: label.to_owned(),
            op,
            rv,
        }
    };
    let slots = ctx.get_slots_with_token().map_err(fail)?;
    let mut present = Vec::new();
    let mut free = None;
    for slot in slots {
        // A slot whose token went (its files removed) answers with an error: not ours.
        let Ok(info) = ctx.get_token_info(slot) else {
            continue;
        };
        if info.token_initialized() {
            present.push(info.label().to_owned());
        } else if free.is_none() {
            free = Some(slot);
        }
    }
    let slot = free.ok_or_else(|| Error::TokenNotFound {
        token: format!("(an uninitialised token for \"{label}\")"),
        present,
    })?;
    ctx.init_token(slot, &so_pin.auth(), label).map_err(fail)?;
    let session = ctx.open_rw_session(slot).map_err(fail)?;
    session
        .login(UserType::So, Some(&so_pin.auth()))
        .map_err(fail)?;
    session.init_pin(&user_pin.auth()).map_err(fail)?;
    session.logout().map_err(fail)?;
    tracing::info!(token = label, module = %module.path().display(), "token initialised");
    Ok(())
}
