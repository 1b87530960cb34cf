//! Event listeners. Each handler only records a few numbers into the SDK state and
//! returns; encoding and sending happen later (see `web::Sdk::schedule_send`).

pub mod click;
pub mod hover;
pub mod page;
pub mod scroll;

use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{AddEventListenerOptions, Event, EventTarget};

/// A registered listener, removed again by `shutdown()`.
pub struct Listener {
    target: EventTarget,
    name: &'static str,
    capture: bool,
    closure: Closure<dyn FnMut(Event)>,
}

impl Listener {
    /// Adds a passive listener (it never calls preventDefault, so scrolling never waits on us).
    pub fn add(
        target: &EventTarget,
        name: &'static str,
        capture: bool,
        handler: impl FnMut(Event) + 'static,
    ) -> Option<Listener> {
        let closure = Closure::<dyn FnMut(Event)>::new(handler);
        let options = AddEventListenerOptions::new();
        options.set_capture(capture);
        options.set_passive(true);
        target
            .add_event_listener_with_callback_and_add_event_listener_options(
                name,
                closure.as_ref().unchecked_ref(),
                &options,
            )
            .ok()?;
        Some(Listener {
            target: target.clone(),
            name,
            capture,
            closure,
        })
    }

    pub fn remove(&self) {
        let _ = self.target.remove_event_listener_with_callback_and_bool(
            self.name,
            self.closure.as_ref().unchecked_ref(),
            self.capture,
        );
    }
}
