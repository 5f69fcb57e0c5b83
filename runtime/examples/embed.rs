//! Embedding walmart: compile a module, give it a host function, call an
//! export, and catch a trap.

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
    Ok(())
}
