//! 2026-07-28 input rounds around one handler call (SEP-2322): open the `requestState` of a
//! retry before the handler runs, and after it returns turn what it asked for into an
//! `input_required` result, or a missing capability into -32021.

use std::sync::Mutex;

use serde_json::{Map, Value, json};

use super::call::{ClientLink, Outcome};
use super::sealing::Sealer;
use crate::protocol::{ErrorCode, RpcError};

/// One round's number, and its binding when the retry's state was opened.
pub(crate) struct Round {
    binding: Option<String>,
    number: u64,
}

/// Opens the retry's `requestState` into `link`. A state that was not sealed here, was
/// changed, expired, or belongs to another request or caller is refused (-32602).
///
/// `binding` digests the request; a first round needs none, so it is computed only when a
/// state comes back.
pub(crate) fn open(
    sealer: &Sealer,
    params: &Map<String, Value>,
    link: &mut ClientLink,
    binding: impl FnOnce() -> String,
) -> Result<Round, RpcError> {
    if params
        .get("inputResponses")
        .is_some_and(|r| !r.is_null() && !r.is_object())
    {
        return Err(RpcError::invalid_params(
            "`inputResponses` must be an object",
        ));
    }
    match params.get("requestState") {
        None | Some(Value::Null) => Ok(Round {
            binding: None,
            number: 0,
        }),
        Some(Value::String(state)) => {
            let binding = binding();
            let (number, app) = sealer
                .open(&binding, state)
                .ok_or_else(|| RpcError::invalid_params("invalid `requestState`"))?;
            link.request_state = app;
            Ok(Round {
                binding: Some(binding),
                number,
            })
        }
        Some(_) => Err(RpcError::invalid_params("`requestState` must be a string")),
    }
}

/// What the handler's return turns into, when it asked for input or lacked a capability;
/// `binding` as for [`open`].
pub(crate) fn close(
    sealer: &Sealer,
    round: Round,
    outcome: &Mutex<Outcome>,
    binding: impl FnOnce() -> String,
) -> Option<Result<Value, RpcError>> {
    let outcome = std::mem::take(
        &mut *outcome
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    if let Some(capability) = outcome.missing_capability {
        return Some(Err(RpcError::new(
            ErrorCode::MissingRequiredClientCapability,
            format!("this request needs the client capability `{capability}`"),
        )
        .with_data(json!({"requiredCapabilities": {capability: {}}}))));
    }
    if outcome.needed.is_empty() {
        return None;
    }
    let binding = round.binding.unwrap_or_else(binding);
    let state = sealer.seal(&binding, round.number + 1, outcome.next_state.as_ref());
    Some(Ok(json!({
        "resultType": "input_required",
        "inputRequests": outcome.needed,
        "requestState": state,
    })))
}
