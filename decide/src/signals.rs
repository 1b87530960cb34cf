//! Events → interest signals, and the write-side privacy rule.
