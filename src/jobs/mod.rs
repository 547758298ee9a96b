//! Background workers (attachment fetcher, webhook sender), each a `try_execute_task`
//! returning an outcome plus a loop. They arrive with the post-booking work.
