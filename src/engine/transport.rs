//! The one place where a lane's protocol picks its transport. Everything that drives a transport
//! (the client threads, the response differential) does so through [`WithTransport`], generic
//! over [`Transport`], and never matches on the protocol itself.

use super::LaneSetup;
use crate::proto::h1::H1Transport;
use crate::proto::h2::H2Transport;
use crate::proto::h3::H3Transport;
use crate::proto::hyper_io::StreamDialer;
use crate::proto::{Protocol, Transport};

/// Something to do with a lane's transport, whatever its type.
pub trait WithTransport {
    /// What it produces.
    type Output;
    /// Does it.
    fn with<T: Transport>(self, transport: T) -> Self::Output;
}

/// Builds the transport of `setup` and hands it to `w`.
pub fn build<W: WithTransport>(setup: &LaneSetup, w: W) -> W::Output {
    let dialer = || {
        StreamDialer::new(
            setup.dial.clone(),
            setup.tls.clone(),
            setup.protocol,
            setup.connect_timeout,
        )
    };
    match setup.protocol {
        Protocol::H1 => w.with(H1Transport::new(dialer(), setup.limits)),
        Protocol::H2 => w.with(H2Transport::new(dialer(), setup.limits)),
        Protocol::H3 => {
            let (cfg, name) = setup.tls.clone().expect("validation requires https for h3");
            match H3Transport::new(
                setup.dial.clone(),
                name.to_str().into_owned(),
                cfg,
                setup.connect_timeout,
                setup.early_data,
                setup.limits,
            ) {
                Ok(t) => w.with(t),
                Err(e) => {
                    unreachable!("the engine checked the QUIC configuration before starting: {e}")
                }
            }
        }
    }
}
