//! The commands' arguments and output, one file per command (the commands that have moved here
//! so far; `main.rs` dispatches).

pub mod account;
