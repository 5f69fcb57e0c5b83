//! Embedding a component: a host interface of Rust functions and a host
//! resource, a record and a variant as Rust types, a typed call into the
//! component, and a WASI 0.2 command run with its output in memory.
//!
//! `cargo run -p walmart --example component`

use walmart::component::{Component, ComponentType, Linker, Resource, ResourceType};
use walmart::wasi::{MemoryOutputPipe, WasiCtx};
use walmart::{Engine, Store};

/// `record point { x: s32, y: s32 }` in the component's types.
#[derive(ComponentType, Debug, PartialEq)]
struct Point {
    x: i32,
    y: i32,
}

/// `variant shape { dot(point), nothing }`.
#[derive(ComponentType, Debug, PartialEq)]
enum Shape {
    Dot(Point),
    Nothing,
}

/// The host's counters, handed to the component as a resource.
struct Counter;

/// The component: it asks the host for a counter, bumps it, and
/// classifies a point.
const COMPONENT: &str = r#"(component
  (import "example:host/counters" (instance $h
    (export "counter" (type $c (sub resource)))
    (export "new-counter" (func (result (own $c))))
    (export "[method]counter.bump" (func (param "self" (borrow $c)) (result u32)))))
  (alias export $h "counter" (type $counter))
  (alias export $h "new-counter" (func $new))
  (alias export $h "[method]counter.bump" (func $bump))
  (core func $new_l (canon lower (func $new)))
  (core func $bump_l (canon lower (func $bump)))
  (core func $drop (canon resource.drop $counter))
  (core module $m
    (import "h" "new" (func $new (result i32)))
    (import "h" "bump" (func $bump (param i32) (result i32)))
    (import "h" "drop" (func $drop (param i32)))
    (memory (export "memory") 1)
    (func (export "bump-three-times") (result i32) (local $c i32)
      call $new local.set $c
      local.get $c call $bump drop
      local.get $c call $bump drop
      local.get $c call $bump
      local.get $c call $drop)
    ;; classify(p) = dot(p) unless p is the origin: the variant at 0.
    (func (export "classify") (param i32 i32) (result i32)
      local.get 0 local.get 1 i32.or
      if
        i32.const 0 i32.const 0 i32.store8
        i32.const 4 local.get 0 i32.store
        i32.const 8 local.get 1 i32.store
      else
        i32.const 0 i32.const 1 i32.store8
      end
      i32.const 0))
  (core instance $i (instantiate $m (with "h" (instance
    (export "new" (func $new_l)) (export "bump" (func $bump_l)) (export "drop" (func $drop))))))
  (type $point0 (record (field "x" s32) (field "y" s32)))
  (export $point "point" (type $point0))
  (type $shape0 (variant (case "dot" $point) (case "nothing")))
  (export $shape "shape" (type $shape0))
  (func (export "bump-three-times") (result u32) (canon lift (core func $i "bump-three-times")))
  (func (export "classify") (param "p" $point) (result $shape)
    (canon lift (core func $i "classify") (memory (core memory $i "memory")))))"#;

fn main() -> Result<(), walmart::Error> {
    let engine = Engine::default();
    let component = Component::new(&engine, COMPONENT)?;

    // The host's interface: counters, each a number in the store's data.
    let mut linker = Linker::<Vec<u32>>::new(&engine);
    let mut counters = linker.instance("example:host/counters")?;
    counters.resource("counter", ResourceType::host::<Counter>(), |_, rep| {
        println!("counter {rep} dropped");
        Ok(())
    })?;
    counters.func_wrap("new-counter", |mut caller, (): ()| {
        caller.data_mut().push(0);
        Ok((Resource::<Counter>::new_own(caller.data().len() as u32 - 1),))
    })?;
    counters.func_wrap(
        "[method]counter.bump",
        |mut caller, (counter,): (Resource<Counter>,)| {
            let n = &mut caller.data_mut()[counter.rep() as usize];
            *n += 1;
            Ok((*n,))
        },
    )?;

    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &component)?;
    let bump = instance.get_typed_func::<(), (u32,)>(&mut store, "bump-three-times")?;
    println!("bumped to {}", bump.call(&mut store, ())?.0);
    let classify = instance.get_typed_func::<(Point,), (Shape,)>(&mut store, "classify")?;
    let (s,) = classify.call(&mut store, (Point { x: 3, y: -4 },))?;
    assert_eq!(s, Shape::Dot(Point { x: 3, y: -4 }));
    let (s,) = classify.call(&mut store, (Point { x: 0, y: 0 },))?;
    assert_eq!(s, Shape::Nothing);
    println!("shapes as expected");

    // A WASI 0.2 command (a C program made a component), its output kept.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/components/hello.wasm"
    );
    let command = Component::from_file(&engine, path)?;
    let mut wasi = Linker::<WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut wasi, |ctx| ctx)?;
    let out = MemoryOutputPipe::new(1 << 16);
    let mut ctx = WasiCtx::new();
    ctx.args(["hello", "0"])
        .env("GREETING", "from the host")
        .stdout(out.clone());
    let mut store = Store::new(&engine, ctx);
    let instance = wasi.instantiate(&mut store, &command)?;
    let run = walmart::component::wasi::command_run(&instance, &mut store)?.expect("a command");
    let (status,) = run.call(&mut store, ())?;
    print!("{}", String::from_utf8_lossy(&out.contents()));
    println!("the command returned {status:?}");
    Ok(())
}
