//! `walmart serve`: an HTTP/1.1 server whose requests a proxy component
//! (one exporting `wasi:http/incoming-handler`) answers, each in a new
//! instance of its own, as `wasmtime serve`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail};
use hyper_util::rt::TokioIo;
use walmart::component::wasi::http::{self, server::ProxyPre};
use walmart::component::{self, Component};
use walmart::wasi::{self, WasiCtx};
use walmart::{Config, Engine, Store};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The proxy component: a `.wasm` or `.wat` component (or one
    /// precompiled by `walmart compile`, with --allow-precompiled).
    file: PathBuf,
    /// The address to listen on.
    #[arg(long, default_value = "0.0.0.0:8080", value_name = "ADDR")]
    addr: String,
    /// An environment variable for the guest: NAME=VALUE, or NAME for the
    /// host's value. Repeatable.
    #[arg(long = "env", value_name = "NAME[=VALUE]")]
    envs: Vec<String>,
    /// A host directory the guest may open (HOST, HOST::GUEST, or
    /// HOST::GUEST::ro for read-only). Repeatable.
    #[arg(long = "dir", value_name = "HOST[::GUEST[::ro]]")]
    dirs: Vec<String>,
    /// WASI options: `inherit-network`, `allow-ip-name-lookup`, `tcp=n`,
    /// `udp=n` (the guest's own sockets), `http-outgoing=n` (its requests
    /// only to what the socket policy allows; by default any address, as
    /// `wasmtime serve`), `cli=n` (no standard output and error).
    #[arg(short = 'S', value_name = "KEY[=VALUE]")]
    wasi_options: Vec<String>,
    /// Run a precompiled component, whose machine code is trusted as it is.
    #[arg(long)]
    allow_precompiled: bool,
    /// Proposals and each request's bounds, as `walmart run -W`:
    /// `timeout=DURATION` (a request's guest past it, running or waiting,
    /// is stopped: a 500; attested, only running Wasm is bounded),
    /// `fuel=N`, `max-memory-size=BYTES` and the other store limits.
    /// Repeatable.
    #[arg(short = 'W', long = "wasm", value_name = "FEATURE[=y|n]|LIMIT=VALUE")]
    wasm_features: Vec<String>,
    #[command(flatten)]
    cache: crate::cache_args::CacheArgs,
    /// Attest each request's instance: `coarse` or `fine` (hooks woven
    /// into the code, heap checks, the CNN), or `tags` (the colour-tag
    /// monitor). Detections go to standard error; with `--on-detect
    /// trap` the request fails (a 500, or its body cut off). Attested
    /// requests run in synchronous stores, a thread each.
    #[arg(long, value_name = "off|coarse|fine|tags", default_value = "off")]
    attest: walmart::attest::Policy,
    /// What a detection does: `log` it and run on, or `trap` (the
    /// request's guest stops: a 500, or its body cut off).
    #[arg(long, value_name = "log|trap", default_value = "log")]
    on_detect: walmart::attest::OnDetect,
}

/// How often the engine's epoch moves for `-W timeout` (a request's
/// deadline is a number of these).
const TICK: std::time::Duration = std::time::Duration::from_millis(10);

/// What each request's store is made from.
struct Setup {
    envs: Vec<(String, String)>,
    dirs: Vec<(String, String, bool)>,
    inherit_network: bool,
    lookups: bool,
    tcp: bool,
    udp: bool,
    http_any: bool,
    stdio: bool,
}

impl Setup {
    fn parse(args: &ServeArgs) -> anyhow::Result<Setup> {
        let mut s = Setup {
            envs: Vec::new(),
            dirs: Vec::new(),
            inherit_network: false,
            lookups: false,
            tcp: true,
            udp: true,
            http_any: true,
            stdio: true,
        };
        for option in &args.wasi_options {
            let (name, value) = option.split_once('=').unwrap_or((option, "y"));
            let yes = || crate::features::yes_no("-S", option, name, value);
            match name {
                "inherit-network" => s.inherit_network = yes()?,
                "allow-ip-name-lookup" => s.lookups = yes()?,
                "tcp" => s.tcp = yes()?,
                "udp" => s.udp = yes()?,
                "http-outgoing" => s.http_any = yes()?,
                "cli" => s.stdio = yes()?,
                _ => bail!(
                    "-S {option}: unknown option for `walmart serve` (known: inherit-network, \
                     allow-ip-name-lookup, tcp, udp, http-outgoing, cli)"
                ),
            }
        }
        for kv in &args.envs {
            match kv.split_once('=') {
                Some((k, v)) if !k.is_empty() => s.envs.push((k.into(), v.into())),
                None if !kv.is_empty() => {
                    if let Some(v) = std::env::var_os(kv) {
                        let v = v
                            .into_string()
                            .map_err(|_| anyhow!("--env {kv}: the host's value is not UTF-8"))?;
                        s.envs.push((kv.clone(), v));
                    }
                }
                _ => bail!("--env {kv}: expected NAME=VALUE or NAME"),
            }
        }
        for dir in &args.dirs {
            let (host, guest, ro) = crate::run::parse_dir(dir)?;
            if !std::path::Path::new(host).is_dir() {
                bail!("--dir {dir}: `{host}` is not a directory");
            }
            s.dirs.push((host.into(), guest.into(), ro));
        }
        Ok(s)
    }

    /// A request's WASI context.
    fn ctx(&self) -> walmart::Result<WasiCtx> {
        let mut ctx = WasiCtx::new();
        if self.stdio {
            ctx.inherit_stdout().inherit_stderr();
        }
        for (k, v) in &self.envs {
            ctx.env(k, v);
        }
        for (host, guest, ro) in &self.dirs {
            let (d, f) = if *ro {
                (wasi::DirPerms::READ, wasi::FilePerms::READ)
            } else {
                (wasi::DirPerms::all(), wasi::FilePerms::all())
            };
            ctx.preopened_dir(host, guest, d, f)?;
        }
        ctx.allow_tcp(self.tcp)
            .allow_udp(self.udp)
            .allow_ip_name_lookup(self.lookups)
            .allow_http_outgoing(self.http_any);
        if self.inherit_network {
            ctx.inherit_network();
        }
        Ok(ctx)
    }
}

pub fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let setup = std::sync::Arc::new(Setup::parse(args)?);
    let mut config = Config::new();
    let attesting = args.attest != walmart::attest::Policy::Off;
    // An attested store may not suspend (its memory would be writable
    // while it waits): attested requests run in synchronous stores, each
    // on a thread of its own (`ProxyPre`'s blocking mode).
    config.async_support(!attesting);
    config.attest(args.attest);
    let bounds = crate::features::apply(&mut config, &args.wasm_features)?;
    let engine = Engine::new(&config)?;
    if bounds.timeout.is_some() {
        let ticker = engine.clone();
        std::thread::Builder::new()
            .name("walmart-serve-epoch".into())
            .spawn(move || loop {
                std::thread::sleep(TICK);
                ticker.increment_epoch();
            })?;
    }
    let bounds = std::sync::Arc::new(bounds);
    let args_on_detect = args.on_detect;
    let mut piped = None;
    let Some(file) = crate::run_component::component_file(&engine, &args.file, &mut piped)? else {
        bail!(
            "{}: not a component: `walmart serve` runs components exporting \
             `wasi:http/incoming-handler` (a core module runs with `walmart run`)",
            args.file.display()
        );
    };
    if matches!(
        file,
        crate::run_component::ComponentFile::Precompiled(_)
            | crate::run_component::ComponentFile::PrecompiledBytes(_)
    ) && !args.allow_precompiled
    {
        bail!(
            "{}: a precompiled component: its machine code would run unchecked; pass \
             --allow-precompiled if you trust it",
            args.file.display()
        );
    }
    let cache = args.cache.open(None)?;
    let component: Component =
        crate::run_component::load(&engine, &args.file, &file, cache.as_ref())?;
    let path = args.file.display().to_string();
    let with_path = |e: walmart::Error| anyhow!("{path}: {e}");
    let mut linker = component::Linker::<WasiCtx>::new(&engine);
    component::wasi::add_to_linker(&mut linker, |c| c).map_err(with_path)?;
    http::add_to_linker(&mut linker, |c| c).map_err(with_path)?;
    let pre = linker.instantiate_pre(&component).map_err(with_path)?;
    if attesting {
        // One instance now, attested as the requests' will be: what the
        // policy cannot watch (`tags` without an allocator it can find)
        // is said at start, not in every request's failure.
        let mut store = Store::new(&engine, setup.ctx().map_err(|e| anyhow!("{e}"))?);
        store
            .configure_attestation(walmart::attest::AttestOptions::new())
            .map_err(with_path)?;
        pre.instantiate(&mut store).map_err(with_path)?;
    }
    let mut proxy = ProxyPre::new(pre, |c| c).map_err(with_path)?;
    // Waiting counts too: the epoch ends only Wasm that runs.
    proxy.set_timeout(bounds.timeout);
    if attesting {
        // The last checks of each request's memory, once its guest is
        // done: a detection fails the request.
        proxy.set_finish(|store| store.finish_attestation().map(|_| ()));
    }
    // A first context now, so a bad --dir fails before serving.
    setup.ctx().map_err(|e| anyhow!("{e}"))?;
    let listener = std::net::TcpListener::bind(&args.addr)
        .map_err(|e| anyhow!("--addr {}: cannot listen: {e}", args.addr))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    eprintln!("walmart serve: listening on http://{local}/");
    // Guests run on a runtime of their own, a worker a core: one that
    // computes or waits holds none of the threads that move bodies
    // (`http::runtime()`).
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    let guests = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("walmart-serve")
        .enable_all()
        .build()?;
    guests.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(c) => c,
                // A client gone before its accept, or descriptors short
                // for a moment: the server goes on.
                Err(e) => {
                    eprintln!("walmart serve: accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let proxy = proxy.clone();
            let engine = engine.clone();
            let setup = setup.clone();
            let bounds = bounds.clone();
            let (attesting, on_detect) = (attesting, args_on_detect);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let proxy = proxy.clone();
                    let engine = engine.clone();
                    let setup = setup.clone();
                    let bounds = bounds.clone();
                    async move {
                        let resp = match setup.ctx().and_then(|ctx| {
                            let mut store = Store::new(&engine, ctx);
                            bound(&mut store, &bounds)?;
                            if attesting {
                                store.configure_attestation(
                                    walmart::attest::AttestOptions::new()
                                        .on_detect(on_detect)
                                        .on_event(crate::run::detections_on_stderr()),
                                )?;
                            }
                            Ok(store)
                        }) {
                            Ok(store) => {
                                proxy
                                    .handle(store, req, |e| eprintln!("walmart serve: {e}"))
                                    .await
                            }
                            Err(e) => http::server::error_response(&format!("walmart: {e}")),
                        };
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                });
                // A client has 30 seconds to send a request's head.
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(std::time::Duration::from_secs(30))
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
        #[allow(unreachable_code)]
        Ok::<ExitCode, anyhow::Error>(ExitCode::SUCCESS)
    })
}

/// Gives a request's store the bounds `-W` asks for.
fn bound(store: &mut Store<WasiCtx>, bounds: &crate::features::RunBounds) -> walmart::Result<()> {
    if let Some(fuel) = bounds.fuel {
        store.set_fuel(fuel)?;
    }
    if let Some(limits) = &bounds.limits {
        store.set_limits(limits.clone().build());
    }
    if let Some(timeout) = bounds.timeout {
        store.set_epoch_deadline((timeout.as_nanos() / TICK.as_nanos()).max(1) as u64);
    }
    Ok(())
}
