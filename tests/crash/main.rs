//! Nothing is lost: each scenario sends notices under load while something dies, then checks
//! every accepted notice has exactly one outcome, no case or event is duplicated and none is
//! lost. The last line of each scenario's output is its count:
//! `sent=… accepted=… outcomes=… duplicates=… lost=…`.
//!
//! CI runs a short version (`RCN_CRASH_NOTICES`, default 200 notices per scenario); the long one:
//! `RCN_CRASH_NOTICES=3000 cargo test -p rcn-tests --test crash -- --nocapture --test-threads 1`.

mod scenarios;
