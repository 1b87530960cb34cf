//! Event handlers. Each one only records a few numbers into the SDK state and returns;
//! encoding and sending happen later (see `web::Sdk::schedule_send`). The listeners
//! themselves live in `js/dom.js` and reach these through `web::dispatch`.

pub mod click;
pub mod hover;
pub mod page;
pub mod scroll;
