//! Embedding walmart: compile a module, give it a host function, call an
//! export, catch a trap, and bound a call with fuel and with a timeout.

use walmart::{Engine, Func, FuncType, Linker, Module, Store, Val, ValType};

fn main() -> Result<(), walmart::Error> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "log" (func $log (param i32)))
            (func $fib (export "fib") (param i32) (result i32)
              local.get 0 i32.const 2 i32.lt_u
              if (result i32) local.get 0
              else
                local.get 0 i32.const 1 i32.sub call $fib
                local.get 0 i32.const 2 i32.sub call $fib
                i32.add
              end)
            (func (export "run") (param i32)
              local.get 0 call $fib call $log)
            (func (export "divide") (param i32 i32) (result i32)
              local.get 0 local.get 1 i32.div_s))"#,
    )?;
    let mut store = Store::new(&engine, Vec::<i32>::new());
    let mut linker = Linker::new(&engine);
    let log = Func::new(
        &mut store,
        FuncType::new([ValType::I32], []),
        |mut caller, params, _results| {
            let v = params[0].i32().unwrap_or_default();
            caller.data_mut().push(v);
            println!("guest says: {v}");
            Ok(())
        },
    );
    linker.define(&mut store, "host", "log", log)?;
    let instance = linker.instantiate(&mut store, &module)?;

    let run = instance.get_func(&mut store, "run").expect("export run");
    run.call(&mut store, &[Val::I32(20)], &mut [])?;
    println!("logged: {:?}", store.data());

    let divide = instance
        .get_func(&mut store, "divide")
        .expect("export divide");
    match divide.call(&mut store, &[Val::I32(1), Val::I32(0)], &mut [Val::I32(0)]) {
        Err(e) => println!("trapped as expected: {e}"),
        Ok(()) => println!("no trap?"),
    }
    bounded()
}

/// A guest that never ends, stopped by fuel, then by an epoch deadline
/// that a timer thread reaches.
fn bounded() -> Result<(), walmart::Error> {
    let mut config = walmart::Config::new();
    config.consume_fuel(true).epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(
        &engine,
        r#"(module (func (export "spin") (loop $l (br $l))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    let spin = instance.get_func(&mut store, "spin").expect("export spin");

    store.set_fuel(1_000_000)?;
    store.set_epoch_deadline(1);
    if let Err(e) = spin.call(&mut store, &[], &mut []) {
        println!("stopped by fuel: {e}");
    }

    store.set_fuel(u64::MAX)?;
    let timer = engine.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        timer.increment_epoch();
    });
    if let Err(e) = spin.call(&mut store, &[], &mut []) {
        println!("stopped by the timeout: {e}");
    }
    Ok(())
}
