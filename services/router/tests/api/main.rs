//! The router as a service, against the real NATS and PostgreSQL servers: accepted notices in on
//! NOTICES, one recorded decision and one event on ROUTING out.

mod access_log;
mod decisions;
mod helpers;
mod idempotence;
mod routing_address_register;
mod routing_decisions;
mod routing_forwarding;
mod routing_manual_queue;
mod routing_service_api;
mod routing_support;
