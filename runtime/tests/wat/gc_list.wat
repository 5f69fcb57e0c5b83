;; Builds a linked list of n structs, then walks it summing their i32s
;; (the GC bench's `list`, and the collector's stale-stack test).
(module
    (type $node (struct (field i32) (field (ref null $node))))
    (func (export "run") (param $n i32) (result i32)
        (local $head (ref null $node)) (local $i i32) (local $sum i32)
        (loop $build
            (local.set $head (struct.new $node (local.get $i) (local.get $head)))
            (local.tee $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $build (i32.lt_u (local.get $n))))
        (block $done (loop $walk
            (br_if $done (ref.is_null (local.get $head)))
            (local.set $sum (i32.add (local.get $sum) (struct.get $node 0 (local.get $head))))
            (local.set $head (struct.get $node 1 (local.get $head)))
            (br $walk)))
        (local.get $sum)))
