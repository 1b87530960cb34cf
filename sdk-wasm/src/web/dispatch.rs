//! The one entry point of every DOM event and timer: `js/dom.js` calls it with a kind
//! (`boundary::dispatch`, the same table as that file's constants) and an element or
//! string, and leaves the event's numbers for `js::Args::read` (in the layout of the kind,
//! `boundary::{click, visibility, timer, …}`).

use wasm_bindgen::prelude::*;

use super::{
    Sdk, ads, capture, env,
    js::{self, Args},
    timers,
    transport::Answer,
    with_sdk,
};
use crate::{
    boundary::{dispatch::*, nums, timer, visibility},
    core::{
        event::{Kind, Navigation},
        schema::consent_source,
    },
};

/// A wasm export rather than a `Closure` handed to `js::start`: no closure table entry,
/// drop shim or FinalizationRegistry glue. Its JS wrapper is not part of the package API:
/// `tools/inline-dom.mjs` makes it module-private when it folds `js/dom.js` (which calls it)
/// into the glue, and it is left out of the TypeScript declarations.
#[wasm_bindgen(js_name = __dispatch, skip_typescript)]
pub fn dispatch(kind: u32, target: JsValue) {
    with_sdk(|sdk| handle(sdk, kind, &target));
}

fn handle(sdk: &mut Sdk, kind: u32, target: &JsValue) {
    match kind {
        CLICK => capture::click::on_click(sdk, target, &Args::read()),
        SCROLL => capture::scroll::on_scroll(sdk),
        MOUSE_OVER => capture::hover::on_over(sdk, target),
        MOUSE_OUT => capture::hover::on_out(sdk, target),
        POP_STATE => sdk.on_url_change(Navigation::Pop),
        PUSH_STATE => sdk.on_url_change(Navigation::Push),
        VISIBILITY => {
            if Args::read().get(visibility::HIDDEN) == 1.0 {
                sdk.on_hide(false);
            } else if sdk.cfg.ads {
                ads::set_page_active(sdk, env::page_active());
            }
        }
        PAGE_HIDE => sdk.on_hide(true),
        FOCUS => ads::set_page_active(sdk, env::page_active()),
        BLUR => ads::set_page_active(sdk, false),
        FLUSH_INTERVAL => sdk.on_flush_interval(),
        ANIMATION_FRAME => capture::scroll::on_frame(sdk),
        TIMER => {
            let args = Args::read();
            match args.get(timer::PURPOSE) as u32 {
                timers::SEND => sdk.on_send_timer(),
                timers::RETRY => sdk.on_retry_timer(),
                timers::AD_SCAN => ads::on_scan_timer(sdk),
                _ => ads::tick(sdk, args.get(timer::KEY) as u32),
            }
        }
        DELIVERY => {
            sdk.on_answer(Answer::read(target, &Args::read()));
        }
        INTERSECTION => ads::on_entry(sdk, target, &Args::read()),
        MUTATION => ads::on_mutations(sdk),
        QUEUE_READY => sdk.on_retry_timer(),
        QUEUE_BATCH => sdk.on_queued_batch(),
        TCF => sdk.on_privacy(Args::read(), consent_source::TCF),
        CONSENT => sdk.on_privacy(Args::read(), consent_source::API),
        AD_VIDEO => sdk.record(Kind::AdVideo(&js::nums(nums::EVENT))),
        _ => {}
    }
}
