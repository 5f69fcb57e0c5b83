//! `bindgen!`: a world's imports implemented through the generated traits
//! and its exports called through the generated struct, every kind of WIT
//! type crossing both ways (host to guest to host and back), a host
//! resource's constructor, methods, static function and drop, host errors
//! as traps (`trappable_imports`), interfaces shared between two
//! invocations (`with`) and the `Pre` form.

use walmart::component::{Component, Linker, Resource, ResourceTable};

mod common;
use walmart::{Engine, Store};

walmart::component::bindgen!({
    world: "painter",
    path: "tests/wit/shapes",
    with: { "example:shapes/canvas.pen": PenData },
});

use example::shapes::canvas::{self, Pen};
use example::shapes::types::{Color, Point, Shape, Signal, Style};

/// The same world, its host functions able to fail.
mod trappable {
    walmart::component::bindgen!({
        world: "painter",
        path: "tests/wit/shapes",
        trappable_imports: true,
    });
}

/// The same world again, `canvas` (and through it `types`) taken from
/// the first invocation's modules.
mod shared {
    walmart::component::bindgen!({
        world: "painter",
        path: "tests/wit/shapes",
        with: {
            "example:shapes/canvas": crate::example::shapes::canvas,
            "example:shapes/types@1.0.0": super::example::shapes::types,
        },
    });
}

/// The painter component: `painter.wat` with the world's types.
fn painter(engine: &Engine) -> Component {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/wit/shapes");
    let mut resolve = wit_parser::Resolve::default();
    let (pkg, _) = resolve.push_path(dir).unwrap();
    let wat = std::fs::read_to_string(format!("{dir}/painter.wat")).unwrap();
    component_of(engine, &resolve, pkg, "painter", &wat)
}

/// The component of core module `wat` implementing `world` of `pkg`, as
/// wit-component makes it.
fn component_of(
    engine: &Engine,
    resolve: &wit_parser::Resolve,
    pkg: wit_parser::PackageId,
    world: &str,
    wat: &str,
) -> Component {
    let world = resolve.select_world(&[pkg], Some(world)).unwrap();
    let mut module = wat::parse_str(wat).unwrap();
    wit_component::embed_component_metadata(
        &mut module,
        resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )
    .unwrap();
    let bytes = wit_component::ComponentEncoder::default()
        .module(&module)
        .unwrap()
        .validate(true)
        .encode()
        .unwrap();
    Component::new(engine, &bytes).unwrap()
}

/// A pen of the host's: its colour and how many points it drew.
#[derive(Debug, PartialEq)]
pub struct PenData {
    color: Color,
    drawn: u32,
}

/// A painter instance on a fresh `Host`.
fn painter_instance() -> (Store<Host>, Painter) {
    let engine = Engine::default();
    let component = painter(&engine);
    let mut linker = Linker::new(&engine);
    Painter::add_to_linker(&mut linker, |h: &mut Host| h).unwrap();
    let mut store = Store::new(&engine, Host::default());
    let painter = Painter::instantiate(&mut store, &component, &linker).unwrap();
    (store, painter)
}

/// The host: its pens in a resource table, and what it was told.
#[derive(Default)]
struct Host {
    table: ResourceTable,
    logged: Vec<String>,
    dropped: Vec<u32>,
}

impl canvas::HostPen for Host {
    fn new(&mut self, color: Color) -> Resource<Pen> {
        self.table.push(PenData { color, drawn: 0 }).unwrap()
    }
    fn draw(&mut self, pen: Resource<Pen>, at: Point) -> u32 {
        assert!(!pen.owned(), "a method's `self` is borrowed");
        assert!(at.x >= 0 && at.y >= 0);
        let pen = self.table.get_mut(&pen).unwrap();
        pen.drawn += 1;
        pen.drawn
    }
    fn colour(&mut self, pen: Resource<Pen>) -> Color {
        self.table.get(&pen).unwrap().color
    }
    fn count(&mut self) -> u32 {
        self.table.len() as u32
    }
    fn drop(&mut self, pen: Resource<Pen>) -> walmart::Result<()> {
        assert!(pen.owned());
        self.dropped.push(pen.rep());
        self.table.delete(pen)?;
        Ok(())
    }
}

impl canvas::Host for Host {
    fn describe(
        &mut self,
        s: Shape,
        style: Style,
        label: Option<String>,
    ) -> Result<String, String> {
        let shape = match s {
            Shape::Circle(r) => format!("circle {r}"),
            Shape::Rect((a, b)) => format!("rect {},{} {},{}", a.x, a.y, b.x, b.y),
            Shape::Empty => return Err("nothing to describe".to_string()),
        };
        let bold = if style.bold { " bold" } else { "" };
        let under = if style.under_line { " underlined" } else { "" };
        Ok(format!(
            "{shape}{bold}{under} ({})",
            label.as_deref().unwrap_or("no label")
        ))
    }
    fn sum(&mut self, values: Vec<f64>) -> f64 {
        values.iter().sum()
    }
    fn mirror(&mut self, p: Point, c: Color, ch: char) -> (Point, Color, char) {
        let next = match c {
            Color::Red => Color::Green,
            Color::Green => Color::Blue,
            Color::Blue => Color::Red,
        };
        let upper = ch.to_uppercase().next().unwrap();
        (Point { x: -p.x, y: -p.y }, next, upper)
    }
    fn flip(&mut self, s: Signal) -> Signal {
        match s {
            Signal::On => Signal::Off,
            Signal::Off => Signal::On,
        }
    }
}

impl PainterImports for Host {
    fn log(&mut self, message: String) {
        self.logged.push(message);
    }
}

#[test]
fn every_kind_of_type_crosses_through_the_generated_bindings() {
    let (mut store, painter) = painter_instance();

    assert_eq!(painter.call_run(&mut store, 41).unwrap(), 42);
    assert_eq!(store.data().logged, ["run"]);

    let api = painter.example_shapes_api();
    let rect = Shape::Rect((Point { x: 1, y: -2 }, Point { x: 30, y: 40 }));
    let style = Style {
        bold: true,
        under_line: true,
        ..Style::default()
    };
    assert_eq!(
        api.call_describe(&mut store, &rect, style, &Some("box".into()))
            .unwrap(),
        Ok("rect 1,-2 30,40 bold underlined (box)".to_string())
    );
    assert_eq!(
        api.call_describe(&mut store, &Shape::Circle(7), Style::default(), &None)
            .unwrap(),
        Ok("circle 7 (no label)".to_string())
    );
    assert_eq!(
        api.call_describe(&mut store, &Shape::Empty, Style::default(), &None)
            .unwrap(),
        Err("nothing to describe".to_string())
    );
    let values: Vec<f64> = (1..=100).map(f64::from).collect();
    assert_eq!(api.call_sum(&mut store, &values).unwrap(), 5050.0);
    assert_eq!(api.call_sum(&mut store, &[]).unwrap(), 0.0);
    assert_eq!(
        api.call_mirror(&mut store, &Point { x: 3, y: -4 }, Color::Blue, 'é')
            .unwrap(),
        (Point { x: -3, y: 4 }, Color::Red, 'É')
    );
    assert_eq!(api.call_flip(&mut store, &Signal::On).unwrap(), Signal::Off);
    assert_eq!(api.call_flip(&mut store, &Signal::Off).unwrap(), Signal::On);

    // A pen the guest makes through the host's constructor, lent back to
    // it, counted, and dropped by it.
    let pen = api.call_new_pen(&mut store, Color::Green).unwrap();
    assert!(pen.owned());
    let other = api.call_new_pen(&mut store, Color::Red).unwrap();
    assert_eq!(api.call_pens(&mut store).unwrap(), 2);
    let at = Point { x: 5, y: 6 };
    let lent = Resource::<Pen>::new_borrow(pen.rep());
    assert_eq!(
        api.call_draw_with(&mut store, lent.clone(), &at).unwrap(),
        1
    );
    assert_eq!(api.call_draw_with(&mut store, lent, &at).unwrap(), 2);
    assert_eq!(
        store.data().table.get(&pen).unwrap(),
        &PenData {
            color: Color::Green,
            drawn: 2
        }
    );
    api.call_discard(&mut store, other.clone()).unwrap();
    assert_eq!(store.data().dropped, [other.rep()]);
    assert!(store.data().table.get(&other).is_err(), "dropped");
    assert_eq!(api.call_pens(&mut store).unwrap(), 1);
}

/// A host whose `describe` fails.
struct Failing;

impl trappable::example::shapes::canvas::HostPen for Failing {
    fn new(
        &mut self,
        _: trappable::example::shapes::types::Color,
    ) -> walmart::Result<Resource<trappable::example::shapes::canvas::Pen>> {
        Ok(Resource::new_own(0))
    }
    fn draw(
        &mut self,
        _: Resource<trappable::example::shapes::canvas::Pen>,
        _: trappable::example::shapes::types::Point,
    ) -> walmart::Result<u32> {
        Ok(0)
    }
    fn colour(
        &mut self,
        _: Resource<trappable::example::shapes::canvas::Pen>,
    ) -> walmart::Result<trappable::example::shapes::types::Color> {
        Ok(trappable::example::shapes::types::Color::Red)
    }
    fn count(&mut self) -> walmart::Result<u32> {
        Err(walmart::Error::Usage("the host cannot count pens".into()))
    }
    fn drop(
        &mut self,
        _: Resource<trappable::example::shapes::canvas::Pen>,
    ) -> walmart::Result<()> {
        Ok(())
    }
}

impl trappable::example::shapes::canvas::Host for Failing {
    fn describe(
        &mut self,
        _: trappable::example::shapes::types::Shape,
        _: trappable::example::shapes::types::Style,
        _: Option<String>,
    ) -> walmart::Result<Result<String, String>> {
        Err(walmart::Error::Usage("the host cannot describe".into()))
    }
    fn sum(&mut self, values: Vec<f64>) -> walmart::Result<f64> {
        Ok(values.iter().sum())
    }
    fn mirror(
        &mut self,
        p: trappable::example::shapes::types::Point,
        c: trappable::example::shapes::types::Color,
        ch: char,
    ) -> walmart::Result<(
        trappable::example::shapes::types::Point,
        trappable::example::shapes::types::Color,
        char,
    )> {
        Ok((p, c, ch))
    }
    fn flip(
        &mut self,
        s: trappable::example::shapes::types::Signal,
    ) -> walmart::Result<trappable::example::shapes::types::Signal> {
        Ok(s)
    }
}

impl trappable::PainterImports for Failing {
    fn log(&mut self, _: String) -> walmart::Result<()> {
        Ok(())
    }
}

#[test]
fn a_trappable_import_s_error_traps_the_guest_with_its_message() {
    let engine = Engine::default();
    let component = painter(&engine);
    let mut linker = Linker::new(&engine);
    trappable::Painter::add_to_linker(&mut linker, |h: &mut Failing| h).unwrap();
    let mut store = Store::new(&engine, Failing);
    let painter = trappable::Painter::instantiate(&mut store, &component, &linker).unwrap();
    let api = painter.example_shapes_api();
    assert_eq!(api.call_sum(&mut store, &[1.5, 2.0]).unwrap(), 3.5);
    let err = api
        .call_describe(
            &mut store,
            &trappable::example::shapes::types::Shape::Circle(1),
            Default::default(),
            &None,
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("the host cannot describe"),
        "{err}"
    );
    // The instance is not entered again after a trap; a new one works.
    let painter = trappable::Painter::instantiate(&mut store, &component, &linker).unwrap();
    let err = painter
        .example_shapes_api()
        .call_pens(&mut store)
        .unwrap_err();
    assert!(err.to_string().contains("cannot count pens"), "{err}");
}

#[test]
fn with_shares_an_interface_s_types_and_leaves_its_linking_to_the_embedder() {
    let engine = Engine::default();
    let component = painter(&engine);
    let mut linker = Linker::new(&engine);
    // The shared world links only its own root import; `canvas` is the
    // first invocation's, linked by its own `add_to_linker`.
    shared::Painter::add_to_linker(&mut linker, |h: &mut Host| h).unwrap();
    let err = linker
        .instantiate_pre(&component)
        .err()
        .expect("canvas is not linked yet");
    assert!(
        err.to_string().contains("example:shapes/") && err.to_string().contains("does not define"),
        "{err}"
    );
    canvas::add_to_linker(&mut linker, |h: &mut Host| h).unwrap();
    example::shapes::types::add_to_linker(&mut linker, |h: &mut Host| h).unwrap();
    let pre = shared::PainterPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
    for n in 0..3 {
        let mut store = Store::new(&engine, Host::default());
        let painter = pre.instantiate(&mut store).unwrap();
        assert_eq!(painter.call_run(&mut store, n).unwrap(), n + 1);
        // The shared world's `Point` is the first's.
        let p = Point { x: 1, y: 2 };
        let (q, _, _): (Point, Color, char) = painter
            .example_shapes_api()
            .call_mirror(&mut store, &p, Color::Red, 'a')
            .unwrap();
        assert_eq!(q, Point { x: -1, y: -2 });
    }
}

impl shared::PainterImports for Host {
    fn log(&mut self, message: String) {
        self.logged.push(message);
    }
}

/// A world of WASI 0.2's `run` export alone.
mod command {
    walmart::component::bindgen!({ world: "command", path: "tests/wit/cli-run" });
}

#[test]
fn a_wasi_command_component_runs_through_its_world_s_bindings() {
    use walmart::wasi::{MemoryOutputPipe, WasiCtx};
    let engine = Engine::default();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/components/hello.wasm"
    );
    let component = Component::from_file(&engine, path).unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    walmart::component::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    command::Command::add_to_linker(&mut linker, |c: &mut WasiCtx| c).unwrap();
    let pre = command::CommandPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
    for (status, ok) in [("0", true), ("3", false)] {
        let stdout = MemoryOutputPipe::new(1 << 16);
        let mut ctx = WasiCtx::new();
        ctx.args(["hello", status]).stdout(stdout.clone());
        let mut store = Store::new(&engine, ctx);
        let cmd = pre.instantiate(&mut store).unwrap();
        let out = cmd.wasi_cli_run().call_run(&mut store);
        if ok {
            assert_eq!(out.unwrap(), Ok(()));
        } else {
            // A non-zero status exits through `wasi:cli/exit`.
            let out = out.unwrap_err();
            assert!(matches!(out, walmart::Error::Exit(1)), "{out:?}");
        }
        let text = String::from_utf8(stdout.contents()).unwrap();
        assert!(
            text.starts_with(&format!("argc=2\nargv[1]={status}\n")),
            "{text}"
        );
    }
}

#[test]
fn a_resource_the_component_exports_is_made_called_and_dropped() {
    let (mut store, painter) = painter_instance();
    let counters = painter.example_shapes_counters();
    let counter = counters.counter();
    let a: exports::example::shapes::counters::Counter =
        counter.call_constructor(&mut store, 10).unwrap();
    let b = counter.call_constructor(&mut store, 100).unwrap();
    assert!(a.owned());
    assert_eq!(counter.call_live(&mut store).unwrap(), 2);
    assert_eq!(counter.call_add(&mut store, a.clone(), 5).unwrap(), 15);
    assert_eq!(counter.call_add(&mut store, a.clone(), 1).unwrap(), 16);
    assert_eq!(counter.call_add(&mut store, b.clone(), 1).unwrap(), 101);
    assert_eq!(counters.call_peek(&mut store, a.clone()).unwrap(), 16);
    // Dropping runs the component's destructor.
    a.resource_drop(&mut store).unwrap();
    assert_eq!(counter.call_live(&mut store).unwrap(), 1);
    assert_eq!(counters.call_peek(&mut store, b.clone()).unwrap(), 101);
    // A handle of the host's resource is no counter.
    let pen = painter
        .example_shapes_api()
        .call_new_pen(&mut store, Color::Red)
        .unwrap();
    let err = counters
        .call_peek(&mut store, pen.into_resource_any())
        .unwrap_err();
    assert!(err.to_string().contains("a resource of type"), "{err}");
}

/// The `fetcher` world with an asynchronous host.
mod fetcher {
    walmart::component::bindgen!({ world: "fetcher", path: "tests/wit/fetch", async: true });
}

/// `lookup` forwards to the host's `get`; its `option<string>` result
/// comes back through memory.
const FETCHER_CORE: &str = r#"(module
  (import "example:fetch/store" "get" (func $get (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $at i32)
    (local.set $at (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                            (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $at) (local.get 3)))
    (local.get $at))
  (func (export "lookup") (param i32 i32) (result i32)
    (call $get (local.get 0) (local.get 1) (i32.const 1024))
    (i32.const 1024)))"#;

/// A host whose answers take a while; `events` is shared by all stores.
struct Slow {
    asked: Vec<String>,
    events: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl fetcher::example::fetch::store::Host for Slow {
    async fn get(&mut self, key: String) -> Option<String> {
        self.events.lock().unwrap().push(format!("asked {key}"));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        self.events.lock().unwrap().push(format!("answered {key}"));
        self.asked.push(key.clone());
        (key != "missing").then(|| key.to_uppercase())
    }
}

#[test]
fn an_asynchronous_host_s_methods_suspend_the_call() {
    let mut config = walmart::Config::new();
    config.async_support(true);
    let engine = Engine::new(&config).unwrap();
    let mut resolve = wit_parser::Resolve::default();
    let (pkg, _) = resolve
        .push_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/wit/fetch"))
        .unwrap();
    let component = component_of(&engine, &resolve, pkg, "fetcher", FETCHER_CORE);
    let mut linker = Linker::new(&engine);
    fetcher::Fetcher::add_to_linker(&mut linker, |s: &mut Slow| s).unwrap();
    let pre = fetcher::FetcherPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let events = std::sync::Arc::<std::sync::Mutex<Vec<String>>>::default();
    let answers = rt.block_on(async {
        // Three calls in three stores at once: they wait together.
        let call = |key: &'static str| {
            let (pre, engine, events) = (&pre, &engine, events.clone());
            async move {
                let mut store = Store::new(
                    engine,
                    Slow {
                        asked: Vec::new(),
                        events,
                    },
                );
                let f = pre.instantiate_async(&mut store).await.unwrap();
                let out = f.call_lookup_async(&mut store, key).await.unwrap();
                assert_eq!(store.data().asked, [key]);
                out
            }
        };
        let (a, (bc, missing)) =
            common::join(call("a"), common::join(call("bc"), call("missing"))).await;
        (a, bc, missing)
    });
    assert_eq!(
        answers,
        (Some("A".to_string()), Some("BC".to_string()), None)
    );
    // The three waited together: each was asked before any answered.
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 6, "{events:?}");
    assert!(
        events[..3].iter().all(|e| e.starts_with("asked")),
        "{events:?}"
    );
    // A synchronous call cannot reach an asynchronous host function.
    let mut store = Store::new(
        &engine,
        Slow {
            asked: Vec::new(),
            events: Default::default(),
        },
    );
    let f = rt.block_on(pre.instantiate_async(&mut store)).unwrap();
    assert!(f.call_lookup(&mut store, "a").is_err());
}
