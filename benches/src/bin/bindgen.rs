//! Calls through `bindgen!`'s bindings, side by side with wasmtime's
//! `bindgen!` of the same world and the same component
//! (`runtime/tests/wit/shapes`: its `painter.wat` wrapped by
//! wit-component): each row a call from the host into the component that
//! calls back into the host with the same values, so the values cross four
//! times.
//!
//! `cargo run --release -p walmart-benches --bin bindgen [--features wasmtime] [-- --runs N]`
//!
//! Prints the median of `--runs` timed batches (default 9, after one
//! warm-up) in nanoseconds per call, for walmart and, with the `wasmtime`
//! feature, for wasmtime.

use walmart_benches::{die, median, runs_argument};

/// Calls per timed batch.
const CALLS: u32 = 20_000;
/// Numbers the `sum` row passes.
const FLOATS: usize = 256;

const ROWS: [&str; 6] = [
    "run (u32; host log of a string)",
    "mirror (record, enum, char; tuple back)",
    "describe (variant, flags, option<string>; result<string>)",
    "sum (list<f64> of 256)",
    "new-pen + discard (host resource)",
    "counter.add (component resource)",
];

fn wit_dir() -> String {
    format!("{}/../runtime/tests/wit/shapes", env!("CARGO_MANIFEST_DIR"))
}

/// The painter component's bytes.
fn component_bytes() -> Vec<u8> {
    let dir = wit_dir();
    let mut resolve = wit_parser::Resolve::default();
    let (pkg, _) = resolve
        .push_path(&dir)
        .unwrap_or_else(|e| die(&e.to_string()));
    let world = resolve
        .select_world(&[pkg], Some("painter"))
        .unwrap_or_else(|e| die(&e.to_string()));
    let mut module =
        wat::parse_file(format!("{dir}/painter.wat")).unwrap_or_else(|e| die(&e.to_string()));
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )
    .unwrap_or_else(|e| die(&e.to_string()));
    wit_component::ComponentEncoder::default()
        .module(&module)
        .and_then(|e| e.validate(true).encode())
        .unwrap_or_else(|e| die(&e.to_string()))
}

/// Nanoseconds per call of a batch.
fn ns(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e9 / f64::from(CALLS)
}

mod walmart_side {
    use walmart::component::{Component, Linker, Resource, ResourceTable};
    use walmart::{Engine, Store};

    walmart::component::bindgen!({
        world: "painter",
        path: "../runtime/tests/wit/shapes",
        with: { "example:shapes/canvas.pen": PenData },
    });
    use example::shapes::canvas::{self, Pen};
    use example::shapes::types::{Color, Point, Shape, Signal, Style};

    pub struct PenData(Color);

    #[derive(Default)]
    struct Host {
        table: ResourceTable,
        logged: usize,
    }

    impl canvas::HostPen for Host {
        fn new(&mut self, color: Color) -> Resource<Pen> {
            self.table.push(PenData(color)).unwrap()
        }
        fn draw(&mut self, _: Resource<Pen>, _: Point) -> u32 {
            0
        }
        fn colour(&mut self, pen: Resource<Pen>) -> Color {
            self.table.get(&pen).unwrap().0
        }
        fn count(&mut self) -> u32 {
            self.table.len() as u32
        }
        fn drop(&mut self, pen: Resource<Pen>) -> walmart::Result<()> {
            self.table.delete(pen)?;
            Ok(())
        }
    }

    impl canvas::Host for Host {
        fn describe(
            &mut self,
            s: Shape,
            _: Style,
            label: Option<String>,
        ) -> Result<String, String> {
            match s {
                Shape::Empty => Err("empty".into()),
                _ => Ok(label.unwrap_or_default()),
            }
        }
        fn sum(&mut self, values: Vec<f64>) -> f64 {
            values.iter().sum()
        }
        fn mirror(&mut self, p: Point, c: Color, ch: char) -> (Point, Color, char) {
            (Point { x: -p.x, y: -p.y }, c, ch)
        }
        fn flip(&mut self, s: Signal) -> Signal {
            s
        }
    }

    impl PainterImports for Host {
        fn log(&mut self, _: String) {
            self.logged += 1;
        }
    }

    pub fn rows(bytes: &[u8], runs: usize) -> [f64; 6] {
        use super::{die, median, ns, CALLS, FLOATS};
        let engine = Engine::default();
        let component = Component::new(&engine, bytes).unwrap_or_else(|e| die(&e.to_string()));
        let mut linker = Linker::new(&engine);
        Painter::add_to_linker(&mut linker, |h: &mut Host| h)
            .unwrap_or_else(|e| die(&e.to_string()));
        let mut store = Store::new(&engine, Host::default());
        let p = Painter::instantiate(&mut store, &component, &linker)
            .unwrap_or_else(|e| die(&e.to_string()));
        let api = p.example_shapes_api();
        let t_run = median(runs, || {
            for i in 0..CALLS {
                assert_eq!(p.call_run(&mut store, i).unwrap(), i + 1);
            }
        });
        let at = Point { x: 3, y: -4 };
        let t_mirror = median(runs, || {
            for _ in 0..CALLS {
                let (q, _, _) = api.call_mirror(&mut store, &at, Color::Blue, 'é').unwrap();
                assert_eq!(q.x, -3);
            }
        });
        let shape = Shape::Rect((at.clone(), Point { x: 30, y: 40 }));
        let style = Style {
            bold: true,
            ..Style::default()
        };
        let label = Some("a label of some length".to_string());
        let t_describe = median(runs, || {
            for _ in 0..CALLS {
                let r = api
                    .call_describe(&mut store, &shape, style, &label)
                    .unwrap();
                assert_eq!(r.unwrap().len(), 22);
            }
        });
        let values = vec![0.5f64; FLOATS];
        let t_sum = median(runs, || {
            for _ in 0..CALLS {
                assert_eq!(api.call_sum(&mut store, &values).unwrap(), 128.0);
            }
        });
        let t_pen = median(runs, || {
            for _ in 0..CALLS {
                let pen = api.call_new_pen(&mut store, Color::Red).unwrap();
                api.call_discard(&mut store, pen).unwrap();
            }
        });
        let counters = p.example_shapes_counters();
        let counter = counters.counter();
        let c = counter.call_constructor(&mut store, 0).unwrap();
        let t_counter = median(runs, || {
            for _ in 0..CALLS {
                counter.call_add(&mut store, c.clone(), 1).unwrap();
            }
        });
        [t_run, t_mirror, t_describe, t_sum, t_pen, t_counter].map(ns)
    }
}

#[cfg(feature = "wasmtime")]
mod wasmtime_side {
    use wasmtime::component::{Component, HasSelf, Linker, Resource, ResourceTable};
    use wasmtime::{Engine, Store};

    wasmtime::component::bindgen!({
        world: "painter",
        path: "../runtime/tests/wit/shapes",
        with: { "example:shapes/canvas.pen": PenData },
    });
    use example::shapes::canvas::{self, Pen};
    use example::shapes::types::{Color, Point, Shape, Signal, Style};

    pub struct PenData(Color);

    #[derive(Default)]
    struct Host {
        table: ResourceTable,
        logged: usize,
    }

    impl canvas::HostPen for Host {
        fn new(&mut self, color: Color) -> Resource<Pen> {
            self.table.push(PenData(color)).unwrap()
        }
        fn draw(&mut self, _: Resource<Pen>, _: Point) -> u32 {
            0
        }
        fn colour(&mut self, pen: Resource<Pen>) -> Color {
            self.table.get(&pen).unwrap().0
        }
        fn count(&mut self) -> u32 {
            0
        }
        fn drop(&mut self, pen: Resource<Pen>) -> wasmtime::Result<()> {
            self.table.delete(pen)?;
            Ok(())
        }
    }

    impl canvas::Host for Host {
        fn describe(
            &mut self,
            s: Shape,
            _: Style,
            label: Option<String>,
        ) -> Result<String, String> {
            match s {
                Shape::Empty => Err("empty".into()),
                _ => Ok(label.unwrap_or_default()),
            }
        }
        fn sum(&mut self, values: Vec<f64>) -> f64 {
            values.iter().sum()
        }
        fn mirror(&mut self, p: Point, c: Color, ch: char) -> (Point, Color, char) {
            (Point { x: -p.x, y: -p.y }, c, ch)
        }
        fn flip(&mut self, s: Signal) -> Signal {
            s
        }
    }

    impl example::shapes::types::Host for Host {}

    impl PainterImports for Host {
        fn log(&mut self, _: String) {
            self.logged += 1;
        }
    }

    pub fn rows(bytes: &[u8], runs: usize) -> [f64; 6] {
        use super::{die, median, ns, CALLS, FLOATS};
        let engine = Engine::default();
        let component = Component::new(&engine, bytes).unwrap_or_else(|e| die(&e.to_string()));
        let mut linker = Linker::new(&engine);
        Painter::add_to_linker::<_, HasSelf<_>>(&mut linker, |h: &mut Host| h)
            .unwrap_or_else(|e| die(&e.to_string()));
        let mut store = Store::new(&engine, Host::default());
        let p = Painter::instantiate(&mut store, &component, &linker)
            .unwrap_or_else(|e| die(&e.to_string()));
        let api = p.example_shapes_api();
        let t_run = median(runs, || {
            for i in 0..CALLS {
                assert_eq!(p.call_run(&mut store, i).unwrap(), i + 1);
            }
        });
        let at = Point { x: 3, y: -4 };
        let t_mirror = median(runs, || {
            for _ in 0..CALLS {
                let (q, _, _) = api.call_mirror(&mut store, at, Color::Blue, 'é').unwrap();
                assert_eq!(q.x, -3);
            }
        });
        let shape = Shape::Rect((at, Point { x: 30, y: 40 }));
        let style = Style::BOLD;
        let label = Some("a label of some length".to_string());
        let t_describe = median(runs, || {
            for _ in 0..CALLS {
                let r = api.call_describe(&mut store, shape, style, &label).unwrap();
                assert_eq!(r.unwrap().len(), 22);
            }
        });
        let values = vec![0.5f64; FLOATS];
        let t_sum = median(runs, || {
            for _ in 0..CALLS {
                assert_eq!(api.call_sum(&mut store, &values).unwrap(), 128.0);
            }
        });
        let t_pen = median(runs, || {
            for _ in 0..CALLS {
                let pen = api.call_new_pen(&mut store, Color::Red).unwrap();
                api.call_discard(&mut store, pen).unwrap();
            }
        });
        let counters = p.example_shapes_counters();
        let counter = counters.counter();
        let c = counter.call_constructor(&mut store, 0).unwrap();
        let t_counter = median(runs, || {
            for _ in 0..CALLS {
                counter.call_add(&mut store, c, 1).unwrap();
            }
        });
        [t_run, t_mirror, t_describe, t_sum, t_pen, t_counter].map(ns)
    }
}

fn main() {
    let runs = runs_argument();
    let bytes = component_bytes();
    let w = walmart_side::rows(&bytes, runs);
    #[cfg(feature = "wasmtime")]
    let t = Some(wasmtime_side::rows(&bytes, runs));
    #[cfg(not(feature = "wasmtime"))]
    let t: Option<[f64; 6]> = None;
    println!(
        "{:<58} {:>10} {:>10} {:>7}",
        "ns per call", "walmart", "wasmtime", "ratio"
    );
    for (i, row) in ROWS.iter().enumerate() {
        match t {
            Some(t) => println!(
                "{row:<58} {:>10.0} {:>10.0} {:>7.2}",
                w[i],
                t[i],
                w[i] / t[i]
            ),
            None => println!("{row:<58} {:>10.0}", w[i]),
        }
    }
}
