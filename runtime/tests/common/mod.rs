//! Helpers several test files share.

/// `wasm` without its `name` custom section, as `-s`, `wasm-opt` or
/// Rust's release profile leave a module.
#[allow(dead_code)] // Not every test file that shares this module uses it.
pub fn without_names(wasm: &[u8]) -> Vec<u8> {
    fn leb(b: &[u8]) -> (usize, usize) {
        let (mut v, mut n) = (0usize, 0);
        loop {
            let byte = b[n];
            v |= usize::from(byte & 0x7f) << (7 * n);
            n += 1;
            if byte & 0x80 == 0 {
                return (v, n);
            }
        }
    }
    let mut out = wasm[..8].to_vec();
    let mut at = 8;
    while at < wasm.len() {
        let (size, n) = leb(&wasm[at + 1..]);
        let body = &wasm[at + 1 + n..at + 1 + n + size];
        let named = wasm[at] == 0 && {
            let (len, m) = leb(body);
            &body[m..m + len] == b"name"
        };
        if !named {
            out.extend_from_slice(&wasm[at..at + 1 + n + size]);
        }
        at += 1 + n + size;
    }
    out
}

/// One configuration per policy a runtime feature must hold under:
/// `off` (guarded, then bounds-checked), `coarse`, `fine`, synchronous
/// `fine`, and with `tags` the tag monitor.
#[allow(dead_code)] // Not every test file that shares this module uses it.
pub fn policy_configs(tags: bool) -> Vec<(&'static str, walmart::Config)> {
    use walmart::attest::Policy;
    let mut out = Vec::new();
    for (name, policy, sync, guarded) in [
        ("off", Policy::Off, false, true),
        ("off, bounds-checked", Policy::Off, false, false),
        ("coarse", Policy::Coarse, false, true),
        ("fine", Policy::Fine, false, true),
        ("fine, synchronous", Policy::Fine, true, true),
        ("tags", Policy::Tags, false, true),
    ] {
        if policy == Policy::Tags && !tags {
            continue;
        }
        let mut config = walmart::Config::new();
        config
            .attest(policy)
            .attest_sync(sync)
            .guarded_memory(guarded);
        out.push((name, config));
    }
    out
}

/// `wat` instantiated in a store of its own, with no imports and no
/// attestation options.
#[allow(dead_code)] // Not every test file that shares this module uses it.
pub fn instantiated(
    config: &walmart::Config,
    wat: &str,
) -> (walmart::Store<()>, walmart::Instance) {
    let engine = walmart::Engine::new(config).unwrap();
    let module = walmart::Module::new(&engine, wat).unwrap();
    let mut store = walmart::Store::new(&engine, ());
    let instance = walmart::Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    (store, instance)
}

/// Calls export `name` with `args`: its first result (`i32` 0 when it has
/// none), or the first line of its error.
#[allow(dead_code)] // Not every test file that shares this module uses it.
pub fn call(
    store: &mut walmart::Store<()>,
    instance: &walmart::Instance,
    name: &str,
    args: &[walmart::Val],
) -> Result<walmart::Val, String> {
    use walmart::Val;
    let f = instance.get_func(&mut *store, name).expect(name);
    let mut out = vec![Val::I32(0); f.ty(&*store).results().len()];
    f.call(&mut *store, args, &mut out)
        .map_err(|e| e.to_string().lines().next().unwrap_or("").to_string())?;
    Ok(out.first().cloned().unwrap_or(Val::I32(0)))
}

/// A store with WASI context `ctx` and an instance of `wasm` (binary or
/// text) linked to WASI.
#[allow(dead_code)] // Not every test file that shares this module uses it.
pub fn wasi_instance(
    wasm: impl AsRef<[u8]>,
    ctx: walmart::wasi::WasiCtx,
) -> (walmart::Store<walmart::wasi::WasiCtx>, walmart::Instance) {
    let engine = walmart::Engine::default();
    let module = walmart::Module::new(&engine, wasm).unwrap();
    let mut linker = walmart::Linker::new(&engine);
    walmart::wasi::add_to_linker(&mut linker, |c: &mut walmart::wasi::WasiCtx| c).unwrap();
    let mut store = walmart::Store::new(&engine, ctx);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

/// A module that imports each WASI function of `calls` (name, parameter
/// types) and exports a function of the same name that calls it with its
/// own arguments: a WASI function needs a calling instance's memory, so
/// the host cannot call the import directly.
#[allow(dead_code)] // Not every test file that shares this module uses it.
pub fn wasi_calls_module(calls: &[(&str, &str)]) -> String {
    let mut wat = String::from("(module\n");
    for (name, params) in calls {
        wat += &format!(
            "(import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} (param {params}) (result i32)))\n"
        );
    }
    wat += "(memory (export \"memory\") 1)\n";
    for (name, params) in calls {
        let gets: String = (0..params.split_whitespace().count())
            .map(|i| format!("(local.get {i})"))
            .collect();
        wat += &format!(
            "(func (export \"{name}\") (param {params}) (result i32) (call ${name} {gets}))\n"
        );
    }
    wat + ")"
}

/// A component's libc, in the component text format: a core module with
/// a memory and a bump `realloc`, instantiated, its memory and `realloc`
/// aliased as `$memory` and `$realloc` for canonical options.
#[allow(dead_code)] // Not every test file that shares this module uses it.
pub const COMPONENT_LIBC: &str = r#"
  (core module $libc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32) (local $end i32)
      global.get $next
      local.get 2 i32.const 1 i32.sub i32.add
      local.get 2 i32.const 1 i32.sub i32.const -1 i32.xor i32.and
      local.tee $p
      local.get 3 i32.add
      local.tee $end
      global.set $next
      ;; Memory grown to hold what it hands out.
      (block $done (loop $grow
        (br_if $done (i32.le_u (local.get $end) (i32.mul (memory.size) (i32.const 65536))))
        (br_if $done (i32.eq (memory.grow (i32.const 16)) (i32.const -1)))
        (br $grow)))
      local.get $p))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $memory))
  (alias core export $libc "realloc" (core func $realloc))
"#;

/// A component's import of `wasi:sockets/network` at `version` (the
/// network resource and the address and error types), and aliases of
/// them as `$network`, `$error-code`, `$family`, `$ip-address` and
/// `$socket-address` for the interfaces imported after it.
#[allow(dead_code)] // Not every test file that shares this module uses it.
pub fn sockets_network_import(version: &str) -> String {
    format!(
        r#"(import "wasi:sockets/network@{version}" (instance $n
    (export "network" (type $net (sub resource)))
    (type $ec (enum "unknown" "access-denied" "not-supported" "invalid-argument"
      "out-of-memory" "timeout" "concurrency-conflict" "not-in-progress" "would-block"
      "invalid-state" "new-socket-limit" "address-not-bindable" "address-in-use"
      "remote-unreachable" "connection-refused" "connection-reset" "connection-aborted"
      "datagram-too-large" "name-unresolvable" "temporary-resolver-failure"
      "permanent-resolver-failure"))
    (export "error-code" (type $ec2 (eq $ec)))
    (type $fam (enum "ipv4" "ipv6"))
    (export "ip-address-family" (type $fam2 (eq $fam)))
    (type $v4 (tuple u8 u8 u8 u8))
    (export "ipv4-address" (type $v4e (eq $v4)))
    (type $v6 (tuple u16 u16 u16 u16 u16 u16 u16 u16))
    (export "ipv6-address" (type $v6e (eq $v6)))
    (type $ip (variant (case "ipv4" $v4e) (case "ipv6" $v6e)))
    (export "ip-address" (type $ip2 (eq $ip)))
    (type $sa4 (record (field "port" u16) (field "address" $v4e)))
    (export "ipv4-socket-address" (type $sa4e (eq $sa4)))
    (type $sa6 (record (field "port" u16) (field "flow-info" u32) (field "address" $v6e)
      (field "scope-id" u32)))
    (export "ipv6-socket-address" (type $sa6e (eq $sa6)))
    (type $sa (variant (case "ipv4" $sa4e) (case "ipv6" $sa6e)))
    (export "ip-socket-address" (type $sa2 (eq $sa)))))
  (alias export $n "network" (type $network))
  (alias export $n "error-code" (type $error-code))
  (alias export $n "ip-address-family" (type $family))
  (alias export $n "ip-address" (type $ip-address))
  (alias export $n "ip-socket-address" (type $socket-address))"#
    )
}

/// Both futures polled in turn on the caller's task until both are done
/// (a join, without an executor's macros): their outputs.
#[allow(dead_code)] // Not every test file that shares this module uses it.
pub async fn join<A, B>(
    a: impl std::future::Future<Output = A>,
    b: impl std::future::Future<Output = B>,
) -> (A, B) {
    use std::task::Poll;
    let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        match (ra.is_some(), rb.is_some()) {
            (true, true) => Poll::Ready(()),
            _ => Poll::Pending,
        }
    })
    .await;
    (ra.unwrap(), rb.unwrap())
}
