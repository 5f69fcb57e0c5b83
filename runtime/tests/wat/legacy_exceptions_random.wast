;; Written by scripts/legacy-eh-programs.py 1 200: random programs of
;; the legacy exception instructions, each with the result the script's
;; model of the proposal gives. Do not edit by hand.
(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f1)
  catch $e1
   try
    (br 0)
    block
     (rethrow 2)
    end
   catch $e0
    (call $f1)
    try
     (throw $e0)
    catch_all
     (br 1)
    end
   end
   try
    try
     (rethrow 2)
    catch $e0
     (call $m (i32.const 1))
     (call $f1)
    end
   delegate 1
  end
  )
  (func $f1
  try
   (call $m (i32.const 2))
   (throw $e1)
   (call $m (i32.const 3))
  catch $e1
   try
    (call $f2)
   catch $e1
    block
     (call $f2)
    end
   catch $e0
    try
     (throw $e1)
    catch_all
     (rethrow 0)
    end
    try
     (throw $e1)
     (call $f2)
    catch $e0
     (call $f2)
     (call $f2)
    catch_all
     (call $m (i32.const 4))
    end
   end
   try
    (rethrow 1)
   catch $e1
    try
     (br 1)
    catch $e0
     (br 2)
    catch $e1
     (call $f2)
    catch_all
     (br 2)
     (call $m (i32.const 5))
    end
    try
     (br 0)
     (rethrow 1)
    catch $e0
     (rethrow 2)
    catch $e1
     (call $m (i32.const 6))
     (rethrow 2)
    catch_all
     (br 0)
    end
   catch $e0
    (br 1)
    (call $m (i32.const 7))
   end
   (throw $e1)
  catch $e0
   (call $m (i32.const 8))
   (throw $e0)
  catch_all
   try
    try
     (br 2)
     (br 3)
    catch_all
     (throw $e1)
     (rethrow 0)
    end
    (call $f2)
   catch $e0
    (call $m (i32.const 9))
    (br 0)
   catch_all
    try
     (br 3)
    delegate 2
   end
  end
  (br 0)
  )
  (func $f2
  try
   (call $m (i32.const 10))
   try
    try
     (throw $e0)
    end
    block
     (call $m (i32.const 11))
    end
   catch $e1
    try
     (call $m (i32.const 12))
     (call $m (i32.const 13))
    catch $e0
     (call $m (i32.const 14))
     (rethrow 0)
    catch $e1
     (call $m (i32.const 15))
     (throw $e0)
    catch_all
     (rethrow 0)
     (br 0)
    end
   end
   try
    try
     (call $m (i32.const 16))
     (throw $e1)
    delegate 1
    (call $m (i32.const 17))
   catch_all
    try
     (throw $e1)
    delegate 0
    (rethrow 0)
   end
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  try
   (call $m (i32.const 1))
  catch $e0
   (throw $e0)
  catch $e1
   (br 1)
   (call $f2)
   (call $f2)
  catch_all
   (br 1)
   (throw $e0)
  end
  (call $f1)
  )
  (func $f1
  (call $m (i32.const 2))
  block
   (throw $e1)
  end
  )
  (func $f2
  try
   try
    (call $m (i32.const 3))
   delegate 1
  catch $e1
   try
    try
     (call $m (i32.const 4))
     (call $m (i32.const 5))
    catch $e0
     (call $m (i32.const 6))
    catch_all
     (call $m (i32.const 7))
    end
   end
   try
    (throw $e0)
    try
     (call $m (i32.const 8))
    end
   delegate 0
   try
    try
     (rethrow 2)
     (br 2)
    catch_all
     (call $m (i32.const 9))
     (call $m (i32.const 10))
    end
    (call $m (i32.const 11))
   catch $e1
    try
     (br 0)
     (call $m (i32.const 12))
    catch $e1
     (throw $e0)
    end
    try
     (throw $e1)
     (call $m (i32.const 13))
    catch $e0
     (call $m (i32.const 14))
    catch $e1
     (call $m (i32.const 15))
     (throw $e0)
    end
   catch_all
    (br 1)
    (rethrow 0)
   end
  catch_all
   try
    (br 1)
    (call $m (i32.const 16))
   delegate 0
   (br 0)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  )
  (func $f1
  (call $f2)
  )
  (func $f2
  (call $m (i32.const 1))
  (call $m (i32.const 2))
  (call $m (i32.const 3))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  try
   (call $m (i32.const 1))
  catch $e1
   try
    (throw $e0)
   end
   (call $f2)
   (call $m (i32.const 2))
  catch $e0
   try
    (throw $e0)
    (throw $e0)
   catch $e0
    (call $f2)
   end
   (call $m (i32.const 3))
   try
    (call $f1)
   delegate 1
  end
  )
  (func $f1
  (call $f2)
  try
   (call $m (i32.const 4))
   block
    (throw $e1)
    try
     (call $f2)
    catch $e0
     (call $f2)
     (call $f2)
    catch $e1
     (throw $e1)
    catch_all
     (call $m (i32.const 5))
     (call $f2)
    end
   end
  catch_all
   try
    try
     (call $f2)
     (call $m (i32.const 6))
    catch $e1
     (call $m (i32.const 7))
     (call $f2)
    catch_all
     (call $f2)
     (call $m (i32.const 8))
    end
    (call $m (i32.const 9))
   catch $e1
    (call $f2)
   catch $e0
    try
     (call $m (i32.const 10))
     (call $f2)
    catch $e0
     (call $m (i32.const 11))
     (call $m (i32.const 12))
    catch $e1
     (br 1)
     (call $f2)
    catch_all
     (call $f2)
     (br 1)
    end
    try
     (call $f2)
    catch $e0
     (call $f2)
     (call $m (i32.const 13))
    end
   end
  end
  try
   (call $m (i32.const 14))
   try
    block
     (br 1)
     (throw $e1)
    end
   end
   try
    (call $m (i32.const 15))
   catch $e1
    try
     (throw $e0)
     (br 0)
    end
   end
  delegate 0
  )
  (func $f2
  (br 0)
  (br 0)
  block
   try
    block
     (throw $e1)
     (call $m (i32.const 16))
    end
   delegate 1
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  block
   (br 1)
  end
  (br 0)
  )
  (func $f1
  (call $m (i32.const 1))
  )
  (func $f2
  (call $m (i32.const 2))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  (call $m (i32.const 1))
  try
   try
    block
     (call $f2)
     (call $m (i32.const 2))
    end
    (call $m (i32.const 3))
   catch $e1
    (call $f2)
    (call $f2)
   catch_all
    (rethrow 0)
    try
     (throw $e0)
    catch $e1
     (call $f1)
     (br 1)
    catch_all
     (call $f2)
    end
   end
   try
    block
     (call $f1)
     (br 1)
    end
    try
     (call $f1)
     (br 1)
    delegate 2
   catch $e1
    (call $m (i32.const 4))
   end
  catch $e0
   try
    try
     (call $m (i32.const 5))
     (br 2)
    catch $e0
     (call $f1)
     (throw $e0)
    end
    (rethrow 1)
   delegate 1
   (call $m (i32.const 6))
  catch $e1
   block
    (throw $e0)
   end
   try
    (rethrow 1)
   delegate 1
   (br 0)
  catch_all
   (call $f1)
   (call $m (i32.const 7))
  end
  )
  (func $f1
  try
   (call $f2)
   try
    (throw $e1)
   catch $e1
    (rethrow 0)
   catch $e0
    block
     (rethrow 1)
     (call $f2)
    end
   catch_all
    try
     (rethrow 1)
    catch $e1
     (rethrow 1)
    catch_all
     (rethrow 1)
    end
   end
   try
    try
     (br 1)
     (call $m (i32.const 8))
    end
   catch $e1
    (rethrow 0)
    (call $m (i32.const 9))
   end
  catch $e1
   (br 1)
  catch $e0
   block
    (throw $e0)
   end
   (call $m (i32.const 10))
  end
  (call $m (i32.const 11))
  (br 0)
  )
  (func $f2
  try
   try
    block
     (call $m (i32.const 12))
    end
    (call $m (i32.const 13))
   catch_all
    try
     (call $m (i32.const 14))
     (call $m (i32.const 15))
    end
    try
     (call $m (i32.const 16))
     (br 2)
    catch $e1
     (call $m (i32.const 17))
    end
   end
   (call $m (i32.const 18))
   (call $m (i32.const 19))
  delegate 0
  try
   try
    (br 1)
    (throw $e0)
   catch_all
    try
     (rethrow 1)
    catch $e0
     (br 2)
    end
   end
   (call $m (i32.const 20))
  catch $e0
   (rethrow 0)
  catch $e1
   (call $m (i32.const 21))
   (br 0)
  catch_all
   (rethrow 0)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const -733559996))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f2)
   (call $f1)
  catch_all
   (throw $e1)
   (rethrow 0)
   (call $f2)
  end
  try
   try
    try
     (call $f2)
    delegate 2
    try
     (throw $e0)
    catch_all
     (rethrow 0)
    end
   catch_all
    try
     (call $f2)
     (call $m (i32.const 1))
    catch $e0
     (call $f1)
    catch_all
     (br 3)
    end
   end
  end
  (call $f1)
  )
  (func $f1
  (call $f2)
  (call $f2)
  )
  (func $f2
  (call $m (i32.const 2))
  block
   (throw $e1)
   try
    block
     (br 1)
    end
   catch $e0
    try
     (rethrow 1)
     (call $m (i32.const 3))
    end
    try
     (throw $e0)
    catch_all
     (call $m (i32.const 4))
     (br 2)
    end
   catch $e1
    try
     (call $m (i32.const 5))
    delegate 1
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   block
    (call $f2)
    (call $f2)
   end
   try
    try
     (call $m (i32.const 1))
    catch $e1
     (call $f1)
     (br 2)
    catch_all
     (call $f2)
     (rethrow 0)
    end
   catch $e0
    try
     (call $f2)
     (rethrow 1)
    catch $e1
     (br 2)
     (br 2)
    catch $e0
     (call $m (i32.const 2))
    catch_all
     (call $f1)
    end
   catch $e1
    (throw $e1)
   end
  catch $e0
   try
    try
     (call $m (i32.const 3))
    delegate 1
    (call $m (i32.const 4))
   catch $e0
    try
     (call $f2)
    end
   catch $e1
    try
     (call $m (i32.const 5))
     (call $m (i32.const 6))
    delegate 2
    block
     (br 3)
    end
   end
   try
    block
     (rethrow 2)
    end
   catch $e0
    try
     (call $f2)
     (call $m (i32.const 7))
    delegate 1
   end
   try
    (call $m (i32.const 8))
    (call $f2)
   catch_all
    try
     (call $f1)
    delegate 1
    try
     (rethrow 2)
     (call $f2)
    catch $e1
     (throw $e0)
     (call $f2)
    catch $e0
     (call $f1)
    catch_all
     (br 0)
    end
   end
  catch $e1
   (rethrow 0)
   (call $f1)
  end
  (call $m (i32.const 9))
  (call $m (i32.const 10))
  )
  (func $f1
  (call $f2)
  (call $f2)
  )
  (func $f2
  try
   try
    (call $m (i32.const 11))
    try
     (call $m (i32.const 12))
     (br 1)
    end
   catch $e1
    try
     (br 2)
     (rethrow 1)
    delegate 2
   catch_all
    try
     (br 1)
     (br 3)
    catch $e1
     (call $m (i32.const 13))
    catch $e0
     (call $m (i32.const 14))
    catch_all
     (call $m (i32.const 15))
    end
    (rethrow 0)
   end
   try
    try
     (call $m (i32.const 16))
    catch_all
     (rethrow 0)
    end
   catch $e1
    (call $m (i32.const 17))
   catch $e0
    (call $m (i32.const 18))
    (rethrow 0)
   catch_all
    (br 2)
   end
  catch $e0
   try
    try
     (br 0)
     (rethrow 2)
    catch_all
     (call $m (i32.const 19))
    end
    try
     (br 2)
     (br 1)
    catch $e1
     (call $m (i32.const 20))
    catch $e0
     (throw $e0)
     (rethrow 2)
    catch_all
     (call $m (i32.const 21))
    end
   catch $e1
    try
     (call $m (i32.const 22))
    catch $e0
     (rethrow 2)
     (rethrow 0)
    end
   catch $e0
    try
     (throw $e1)
     (throw $e1)
    catch $e0
     (throw $e1)
     (call $m (i32.const 23))
    catch_all
     (rethrow 2)
    end
   catch_all
    (call $m (i32.const 24))
   end
  catch $e1
   block
    (br 1)
   end
   try
    try
     (call $m (i32.const 25))
     (call $m (i32.const 26))
    end
    (br 0)
   delegate 0
   try
    (call $m (i32.const 27))
   delegate 0
  end
  try
   block
    try
     (call $m (i32.const 28))
    catch $e0
     (call $m (i32.const 29))
    catch_all
     (throw $e1)
     (call $m (i32.const 30))
    end
    (call $m (i32.const 31))
   end
   try
    (throw $e0)
    block
     (call $m (i32.const 32))
    end
   catch $e0
    (call $m (i32.const 33))
   catch_all
    (rethrow 0)
   end
   try
    (call $m (i32.const 34))
   end
  delegate 0
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const -224096190))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  (call $m (i32.const 1))
  try
   (call $m (i32.const 2))
   (call $f1)
  catch $e1
   try
    try
     (call $f2)
     (throw $e0)
    catch $e1
     (call $f1)
    catch $e0
     (call $m (i32.const 3))
    catch_all
     (throw $e0)
     (throw $e1)
    end
    try
     (br 1)
     (br 0)
    catch $e1
     (call $f1)
     (call $f2)
    catch $e0
     (call $f1)
     (call $m (i32.const 4))
    catch_all
     (call $f1)
    end
   catch $e1
    (call $f1)
    (throw $e1)
   end
  catch $e0
   (call $m (i32.const 5))
   try
    (call $f2)
   catch $e0
    (rethrow 0)
   catch $e1
    (call $m (i32.const 6))
    (rethrow 1)
   catch_all
    (rethrow 1)
    try
     (call $m (i32.const 7))
     (call $m (i32.const 8))
    catch $e0
     (rethrow 0)
    end
   end
  end
  )
  (func $f1
  try
   try
    try
     (br 1)
     (call $f2)
    end
    (call $f2)
   end
   (call $f2)
  catch $e1
   try
    try
     (br 3)
     (throw $e1)
    catch $e1
     (call $f2)
    catch_all
     (call $f2)
    end
   catch $e1
    try
     (br 1)
    catch $e0
     (call $f2)
     (call $m (i32.const 9))
    catch_all
     (call $f2)
     (rethrow 2)
    end
   catch $e0
    try
     (throw $e1)
     (call $f2)
    delegate 1
    block
     (call $f2)
     (call $f2)
    end
   end
   (throw $e0)
   (call $m (i32.const 10))
  catch $e0
   (rethrow 0)
   (call $m (i32.const 11))
  end
  (throw $e1)
  block
   try
    (throw $e0)
    try
     (throw $e0)
    catch $e1
     (call $f2)
    end
   catch $e0
    try
     (throw $e0)
    end
   catch $e1
    (throw $e1)
   end
   try
    block
     (call $m (i32.const 12))
    end
   catch $e0
    (rethrow 0)
   catch $e1
    try
     (br 0)
    catch $e0
     (call $f2)
    catch $e1
     (call $m (i32.const 13))
    end
   catch_all
    try
     (call $m (i32.const 14))
     (call $f2)
    delegate 2
    try
     (rethrow 1)
     (call $f2)
    delegate 2
   end
   (throw $e1)
  end
  )
  (func $f2
  try
   try
    try
     (throw $e1)
    end
    (call $m (i32.const 15))
   catch $e1
    (rethrow 0)
   catch $e0
    block
     (throw $e1)
     (call $m (i32.const 16))
    end
    (throw $e0)
   end
  catch_all
   try
    try
     (call $m (i32.const 17))
     (rethrow 2)
    catch $e1
     (call $m (i32.const 18))
    catch $e0
     (call $m (i32.const 19))
    end
   catch_all
    try
     (call $m (i32.const 20))
     (rethrow 1)
    catch $e0
     (call $m (i32.const 21))
     (throw $e0)
    catch $e1
     (throw $e0)
     (call $m (i32.const 22))
    catch_all
     (throw $e1)
    end
    try
     (call $m (i32.const 23))
     (rethrow 2)
    end
   end
   (call $m (i32.const 24))
   (rethrow 0)
  end
  try
   block
    (call $m (i32.const 25))
   end
   try
    (throw $e0)
   end
  catch $e0
   try
    (call $m (i32.const 26))
    (br 1)
   catch $e0
    (call $m (i32.const 27))
   catch $e1
    try
     (br 1)
     (throw $e0)
    delegate 2
   catch_all
    try
     (br 3)
     (throw $e1)
    end
   end
   (throw $e0)
   try
    try
     (br 1)
    catch $e1
     (call $m (i32.const 28))
    catch_all
     (br 3)
    end
   end
  catch $e1
   try
    try
     (rethrow 2)
     (call $m (i32.const 29))
    catch_all
     (throw $e0)
    end
   catch $e0
    (throw $e1)
   catch_all
    try
     (call $m (i32.const 30))
     (br 2)
    delegate 1
   end
   (rethrow 0)
   try
    try
     (call $m (i32.const 31))
     (br 2)
    catch $e1
     (call $m (i32.const 32))
     (rethrow 2)
    catch $e0
     (br 0)
     (rethrow 0)
    catch_all
     (call $m (i32.const 33))
    end
   catch $e1
    try
     (throw $e0)
    catch $e0
     (throw $e0)
     (call $m (i32.const 34))
    end
    block
     (call $m (i32.const 35))
    end
   end
  catch_all
   try
    try
     (throw $e1)
     (throw $e1)
    end
    (br 1)
   catch $e1
    (call $m (i32.const 36))
   end
  end
  block
   (call $m (i32.const 37))
   (throw $e1)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (br 0)
   (call $m (i32.const 1))
  delegate 0
  try
   try
    (br 2)
    (call $m (i32.const 2))
   catch $e1
    try
     (call $m (i32.const 3))
    catch $e1
     (call $m (i32.const 4))
    end
    (rethrow 0)
   catch $e0
    try
     (call $m (i32.const 5))
     (call $m (i32.const 6))
    delegate 0
   catch_all
    try
     (call $f2)
    catch $e0
     (throw $e1)
    catch_all
     (call $m (i32.const 7))
     (call $f1)
    end
   end
  end
  (call $m (i32.const 8))
  )
  (func $f1
  (call $f2)
  )
  (func $f2
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e0)
  try
   (br 1)
  catch $e0
   try
    (call $f2)
    try
     (call $m (i32.const 1))
    catch $e0
     (call $f2)
     (call $f2)
    catch $e1
     (call $m (i32.const 2))
     (br 0)
    end
   catch $e1
    (call $m (i32.const 3))
    try
     (call $m (i32.const 4))
     (call $f2)
    catch $e1
     (call $m (i32.const 5))
     (rethrow 1)
    catch $e0
     (call $f2)
     (call $f2)
    catch_all
     (call $f1)
    end
   catch $e0
    block
     (call $m (i32.const 6))
     (call $f2)
    end
    (br 2)
   catch_all
    try
     (br 3)
    delegate 0
    try
     (throw $e0)
    catch $e0
     (br 0)
     (throw $e1)
    catch_all
     (call $m (i32.const 7))
    end
   end
   try
    (call $f1)
   delegate 0
  catch_all
   (call $f2)
   try
    (br 0)
    try
     (rethrow 2)
    catch $e1
     (br 3)
     (rethrow 0)
    end
   catch $e0
    try
     (call $f1)
    end
   catch_all
    try
     (call $f2)
     (call $m (i32.const 8))
    delegate 2
   end
   try
    block
     (call $m (i32.const 9))
     (call $f1)
    end
    (call $m (i32.const 10))
   delegate 1
  end
  block
   (call $f2)
   (call $f1)
   try
    try
     (br 0)
     (throw $e0)
    catch $e1
     (rethrow 0)
    catch $e0
     (throw $e0)
     (call $m (i32.const 11))
    catch_all
     (call $m (i32.const 12))
    end
    (call $f1)
   catch_all
    (rethrow 0)
   end
  end
  )
  (func $f1
  (call $m (i32.const 13))
  )
  (func $f2
  (call $m (i32.const 14))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  (call $m (i32.const 1))
  try
   try
    try
     (throw $e1)
    catch $e1
     (call $m (i32.const 2))
    catch $e0
     (call $m (i32.const 3))
     (call $m (i32.const 4))
    end
   catch $e1
    (call $f2)
    (call $m (i32.const 5))
   catch $e0
    try
     (call $f1)
    catch_all
     (throw $e0)
    end
   catch_all
    try
     (call $m (i32.const 6))
    delegate 1
    (throw $e0)
   end
  end
  )
  (func $f1
  (call $m (i32.const 7))
  try
   try
    (br 2)
   catch_all
    (call $m (i32.const 8))
   end
  catch $e0
   (br 1)
   try
    try
     (rethrow 2)
     (call $f2)
    catch $e1
     (throw $e1)
     (br 3)
    catch $e0
     (call $m (i32.const 9))
     (br 1)
    end
    block
     (call $m (i32.const 10))
     (call $f2)
    end
   delegate 0
   (call $m (i32.const 11))
  catch $e1
   (call $f2)
   (call $f2)
  catch_all
   (call $f2)
   (rethrow 0)
  end
  )
  (func $f2
  (call $m (i32.const 12))
  try
   block
    block
     (call $m (i32.const 13))
    end
   end
  catch_all
   (throw $e0)
   (throw $e0)
   try
    (br 1)
    block
     (throw $e1)
    end
   delegate 1
  end
  (call $m (i32.const 14))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 11483022))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e1)
  try
   (throw $e1)
  end
  )
  (func $f1
  try
   (call $m (i32.const 1))
  catch $e0
   (call $f2)
   try
    (call $f2)
    (throw $e1)
   end
   try
    (call $m (i32.const 2))
   end
  catch $e1
   (call $f2)
   (br 1)
  end
  (br 0)
  )
  (func $f2
  (call $m (i32.const 3))
  (br 0)
  (throw $e0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (throw $e0)
   (br 0)
  catch $e1
   try
    (throw $e1)
    (br 1)
   catch_all
    (throw $e0)
   end
   (br 0)
  catch_all
   (throw $e0)
   (call $f1)
  end
  try
   try
    (call $m (i32.const 1))
   delegate 1
  catch $e0
   try
    (br 1)
   catch $e0
    (call $f2)
   end
  catch $e1
   block
    try
     (call $f2)
     (call $f2)
    catch $e0
     (br 0)
     (throw $e0)
    catch $e1
     (call $m (i32.const 2))
     (call $m (i32.const 3))
    end
   end
  catch_all
   (call $f2)
   block
    (call $m (i32.const 4))
    (call $f1)
   end
  end
  )
  (func $f1
  (call $f2)
  (call $m (i32.const 5))
  block
   try
    (call $f2)
   catch $e1
    try
     (throw $e0)
    catch $e0
     (throw $e0)
     (br 3)
    catch_all
     (call $f2)
     (call $m (i32.const 6))
    end
    try
     (call $m (i32.const 7))
    delegate 2
   catch $e0
    (call $m (i32.const 8))
   end
   try
    (call $f2)
    try
     (br 0)
     (br 3)
    end
   catch $e0
    (call $f2)
    (br 2)
   end
  end
  )
  (func $f2
  block
   try
    (br 0)
    (throw $e1)
   end
  end
  try
   try
    (call $m (i32.const 9))
    (br 2)
   catch_all
    try
     (br 3)
    catch_all
     (call $m (i32.const 10))
    end
   end
  catch $e0
   try
    (br 2)
    try
     (br 2)
     (call $m (i32.const 11))
    catch $e1
     (call $m (i32.const 12))
     (call $m (i32.const 13))
    catch $e0
     (call $m (i32.const 14))
     (br 3)
    end
   delegate 0
  end
  try
   try
    try
     (call $m (i32.const 15))
    end
    (call $m (i32.const 16))
   delegate 1
   (throw $e1)
  catch $e0
   try
    try
     (rethrow 2)
    delegate 1
   catch $e1
    (throw $e1)
    (throw $e0)
   end
   (call $m (i32.const 17))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  (call $f2)
  (call $f1)
  )
  (func $f1
  (call $m (i32.const 1))
  try
   block
    (call $f2)
    (throw $e1)
   end
   try
    try
     (call $f2)
     (throw $e0)
    catch $e0
     (call $m (i32.const 2))
    end
    (br 1)
   catch $e0
    (rethrow 0)
   catch $e1
    (throw $e1)
    try
     (throw $e1)
     (call $m (i32.const 3))
    catch $e1
     (throw $e1)
     (call $f2)
    catch_all
     (call $m (i32.const 4))
     (call $m (i32.const 5))
    end
   catch_all
    (throw $e1)
    (call $m (i32.const 6))
   end
  catch $e0
   block
    try
     (call $f2)
     (throw $e1)
    delegate 2
    (rethrow 1)
   end
   (throw $e0)
  catch $e1
   (br 0)
   (call $m (i32.const 7))
   (call $f2)
  catch_all
   (call $f2)
  end
  )
  (func $f2
  try
   block
    try
     (br 1)
     (call $m (i32.const 8))
    catch $e1
     (call $m (i32.const 9))
    catch_all
     (br 1)
     (throw $e0)
    end
   end
  catch $e0
   (call $m (i32.const 10))
   try
    (call $m (i32.const 11))
   catch $e0
    try
     (throw $e1)
     (call $m (i32.const 12))
    catch_all
     (call $m (i32.const 13))
    end
   catch $e1
    try
     (br 1)
    catch $e1
     (call $m (i32.const 14))
    catch_all
     (call $m (i32.const 15))
    end
   catch_all
    try
     (call $m (i32.const 16))
     (call $m (i32.const 17))
    delegate 0
    try
     (rethrow 1)
     (call $m (i32.const 18))
    catch $e0
     (throw $e0)
     (br 3)
    catch_all
     (call $m (i32.const 19))
     (call $m (i32.const 20))
    end
   end
  catch_all
   (rethrow 0)
  end
  block
   (br 0)
   (call $m (i32.const 21))
   (call $m (i32.const 22))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  try
   try
    try
     (call $m (i32.const 1))
     (br 2)
    delegate 2
    (call $f2)
   catch $e1
    try
     (call $m (i32.const 2))
    catch_all
     (call $m (i32.const 3))
    end
    (br 2)
   catch_all
    try
     (call $m (i32.const 4))
    end
    try
     (call $m (i32.const 5))
    catch $e1
     (call $m (i32.const 6))
     (rethrow 0)
    end
   end
   try
    block
     (call $f1)
     (call $f2)
    end
    (throw $e1)
   delegate 0
   (call $f1)
  end
  )
  (func $f1
  block
   (call $m (i32.const 7))
  end
  )
  (func $f2
  (throw $e0)
  block
   try
    try
     (br 0)
    catch $e0
     (rethrow 0)
    end
   catch $e1
    try
     (br 0)
     (call $m (i32.const 8))
    end
    block
     (call $m (i32.const 9))
    end
   catch $e0
    (call $m (i32.const 10))
    (br 0)
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 218))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  (call $m (i32.const 2))
  try
   (br 0)
   (call $f2)
  catch $e0
   (call $f2)
   try
    try
     (throw $e1)
    catch $e0
     (rethrow 2)
     (rethrow 2)
    catch_all
     (throw $e0)
    end
   catch $e1
    try
     (throw $e1)
    catch $e1
     (rethrow 2)
     (call $m (i32.const 3))
    catch $e0
     (call $m (i32.const 4))
     (call $m (i32.const 5))
    end
    block
     (rethrow 2)
    end
   catch $e0
    (call $f2)
    (throw $e0)
   end
   (throw $e1)
  catch $e1
   block
    try
     (call $f2)
     (call $m (i32.const 6))
    delegate 2
    (call $m (i32.const 7))
   end
  end
  )
  (func $f1
  try
   try
    (call $m (i32.const 8))
    try
     (call $f2)
     (call $f2)
    delegate 0
   end
  catch $e1
   block
    try
     (call $m (i32.const 9))
    catch_all
     (rethrow 0)
    end
    (call $m (i32.const 10))
   end
   try
    (br 0)
    try
     (call $m (i32.const 11))
    catch_all
     (call $f2)
     (throw $e0)
    end
   catch $e0
    try
     (call $m (i32.const 12))
     (call $m (i32.const 13))
    catch $e1
     (br 3)
     (rethrow 0)
    catch_all
     (call $f2)
    end
   end
   (rethrow 0)
  catch $e0
   try
    (throw $e0)
   end
   (call $m (i32.const 14))
  catch_all
   (call $f2)
   (br 1)
  end
  (throw $e1)
  )
  (func $f2
  try
   (call $m (i32.const 15))
   try
    block
     (call $m (i32.const 16))
     (call $m (i32.const 17))
    end
    try
     (br 3)
    catch $e0
     (br 0)
    catch $e1
     (rethrow 0)
     (call $m (i32.const 18))
    end
   catch_all
    try
     (call $m (i32.const 19))
    delegate 1
    block
     (br 3)
     (call $m (i32.const 20))
    end
   end
   try
    try
     (call $m (i32.const 21))
    catch $e1
     (call $m (i32.const 22))
     (call $m (i32.const 23))
    end
   catch $e1
    try
     (throw $e0)
    catch $e1
     (throw $e1)
    catch $e0
     (call $m (i32.const 24))
     (throw $e0)
    end
    try
     (call $m (i32.const 25))
     (br 1)
    catch $e1
     (rethrow 0)
    catch $e0
     (call $m (i32.const 26))
     (br 0)
    catch_all
     (br 0)
    end
   catch_all
    block
     (call $m (i32.const 27))
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 33))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  (call $f1)
  try
   try
    (call $f1)
    try
     (call $f1)
     (throw $e0)
    delegate 0
   catch $e0
    try
     (call $f2)
     (call $f1)
    catch $e1
     (call $m (i32.const 1))
    catch $e0
     (rethrow 0)
    catch_all
     (call $m (i32.const 2))
     (call $m (i32.const 3))
    end
    (throw $e0)
   catch $e1
    (rethrow 0)
    (throw $e0)
   catch_all
    (call $m (i32.const 4))
    try
     (rethrow 1)
     (call $f2)
    delegate 2
   end
   try
    (call $f1)
    (call $m (i32.const 5))
   delegate 0
  catch_all
   try
    (call $m (i32.const 6))
    try
     (br 3)
    catch $e0
     (call $m (i32.const 7))
    catch $e1
     (call $m (i32.const 8))
     (call $f2)
    end
   delegate 1
   (call $f2)
  end
  )
  (func $f1
  (call $m (i32.const 9))
  (call $m (i32.const 10))
  )
  (func $f2
  try
   (br 0)
  catch $e1
   (rethrow 0)
   (br 0)
   (br 0)
  catch_all
   try
    try
     (rethrow 2)
    catch $e0
     (call $m (i32.const 11))
    catch_all
     (call $m (i32.const 12))
    end
   delegate 1
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 853521794))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  try
   (call $f1)
   block
    try
     (throw $e1)
     (call $f2)
    catch $e1
     (call $m (i32.const 2))
     (call $m (i32.const 3))
    end
   end
   try
    (throw $e0)
    try
     (call $f1)
    catch $e0
     (throw $e1)
    catch_all
     (call $f2)
     (rethrow 0)
    end
   catch $e0
    try
     (call $f2)
     (call $f1)
    catch_all
     (throw $e0)
     (call $f2)
    end
    (br 2)
   catch $e1
    (br 0)
   catch_all
    (call $m (i32.const 4))
   end
  catch $e1
   (throw $e0)
  catch $e0
   try
    block
     (rethrow 2)
    end
    try
     (rethrow 2)
     (rethrow 2)
    catch_all
     (call $f2)
     (br 2)
    end
   delegate 1
  end
  try
   try
    block
     (br 1)
     (br 0)
    end
    (throw $e1)
   catch_all
    (call $m (i32.const 5))
    block
     (call $f1)
    end
   end
  catch $e1
   (call $m (i32.const 6))
   (call $f1)
   (call $f2)
  catch_all
   (rethrow 0)
  end
  )
  (func $f1
  try
   (br 1)
   block
    try
     (call $m (i32.const 7))
     (throw $e1)
    end
   end
   (call $f2)
  catch_all
   (throw $e1)
  end
  (call $f2)
  try
   try
    try
     (call $f2)
    delegate 2
    (call $m (i32.const 8))
   delegate 0
   (call $m (i32.const 9))
  delegate 0
  )
  (func $f2
  (call $m (i32.const 10))
  block
   (throw $e1)
   try
    try
     (call $m (i32.const 11))
     (call $m (i32.const 12))
    catch $e0
     (br 1)
    catch_all
     (call $m (i32.const 13))
    end
   catch_all
    block
     (br 1)
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  block
   (call $f2)
  end
  )
  (func $f1
  (call $m (i32.const 1))
  )
  (func $f2
  try
   try
    block
     (throw $e0)
     (call $m (i32.const 2))
    end
    try
     (call $m (i32.const 3))
     (br 1)
    catch $e0
     (br 2)
     (throw $e1)
    catch $e1
     (rethrow 0)
     (throw $e0)
    catch_all
     (throw $e0)
    end
   catch $e0
    (throw $e1)
    try
     (br 0)
     (call $m (i32.const 4))
    delegate 1
   catch $e1
    (br 0)
   catch_all
    (throw $e0)
   end
   (call $m (i32.const 5))
  catch $e1
   (call $m (i32.const 6))
  catch_all
   try
    block
     (call $m (i32.const 7))
     (throw $e1)
    end
   catch $e1
    (call $m (i32.const 8))
    (br 2)
   catch_all
    try
     (br 2)
     (call $m (i32.const 9))
    end
    block
     (br 0)
     (rethrow 2)
    end
   end
   try
    (throw $e0)
   delegate 0
   try
    block
     (call $m (i32.const 10))
    end
   catch $e0
    try
     (br 2)
     (call $m (i32.const 11))
    catch $e0
     (call $m (i32.const 12))
     (call $m (i32.const 13))
    catch $e1
     (br 3)
    end
   catch_all
    try
     (call $m (i32.const 14))
     (rethrow 1)
    end
    try
     (call $m (i32.const 15))
     (call $m (i32.const 16))
    catch_all
     (throw $e0)
    end
   end
  end
  try
   try
    block
     (call $m (i32.const 17))
     (br 3)
    end
    (br 0)
   delegate 1
   (throw $e0)
  catch $e1
   block
    try
     (throw $e0)
     (rethrow 2)
    delegate 2
   end
   try
    try
     (call $m (i32.const 18))
     (br 3)
    delegate 2
   end
  catch $e0
   (call $m (i32.const 19))
  end
  try
   try
    (throw $e1)
    (call $m (i32.const 20))
   end
   block
    (throw $e1)
    block
     (call $m (i32.const 21))
     (br 3)
    end
   end
   (throw $e1)
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 203))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  block
   try
    try
     (call $f2)
    catch $e1
     (call $f1)
     (rethrow 0)
    catch_all
     (br 2)
     (call $m (i32.const 1))
    end
   catch $e0
    try
     (br 1)
    catch $e0
     (call $m (i32.const 2))
    catch_all
     (rethrow 0)
    end
   end
   try
    (call $m (i32.const 3))
   catch $e1
    (call $f1)
   catch_all
    try
     (call $m (i32.const 4))
    catch $e1
     (rethrow 1)
     (rethrow 0)
    catch $e0
     (call $f1)
     (call $f1)
    end
    try
     (call $m (i32.const 5))
     (br 0)
    end
   end
   (call $m (i32.const 6))
  end
  (call $f2)
  )
  (func $f1
  try
   try
    (call $m (i32.const 7))
    try
     (throw $e0)
    delegate 2
   catch $e0
    (call $m (i32.const 8))
    (rethrow 0)
   catch $e1
    (call $m (i32.const 9))
    (call $f2)
   end
   (br 1)
  catch $e0
   (call $m (i32.const 10))
   (br 1)
   (call $f2)
  catch $e1
   try
    (rethrow 1)
    (call $m (i32.const 11))
   catch $e0
    try
     (call $m (i32.const 12))
     (call $m (i32.const 13))
    delegate 0
    try
     (br 2)
    delegate 1
   end
   block
    (rethrow 1)
   end
  catch_all
   (call $m (i32.const 14))
   (br 0)
  end
  block
   (throw $e0)
   try
    try
     (call $m (i32.const 15))
    catch_all
     (throw $e1)
     (call $f2)
    end
    (call $m (i32.const 16))
   delegate 0
  end
  (call $f2)
  )
  (func $f2
  try
   try
    (throw $e0)
   catch $e0
    try
     (throw $e0)
     (call $m (i32.const 17))
    end
   catch_all
    try
     (rethrow 1)
     (br 2)
    catch $e0
     (call $m (i32.const 18))
     (rethrow 1)
    end
    (rethrow 0)
   end
  delegate 0
  try
   (throw $e0)
  delegate 0
  block
   try
    (call $m (i32.const 19))
   catch $e0
    try
     (br 0)
     (br 1)
    catch $e1
     (rethrow 0)
     (throw $e1)
    catch $e0
     (throw $e1)
    catch_all
     (throw $e1)
     (call $m (i32.const 20))
    end
   catch_all
    try
     (br 2)
     (throw $e0)
    catch $e1
     (call $m (i32.const 21))
     (throw $e1)
    end
    try
     (call $m (i32.const 22))
     (br 0)
    end
   end
   try
    try
     (call $m (i32.const 23))
     (br 0)
    delegate 2
   catch $e1
    block
     (rethrow 1)
    end
   catch $e0
    (br 2)
    (call $m (i32.const 24))
   catch_all
    try
     (call $m (i32.const 25))
    catch $e1
     (throw $e0)
     (call $m (i32.const 26))
    catch $e0
     (br 3)
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $m (i32.const 1))
   block
    block
     (call $m (i32.const 2))
    end
    (call $f2)
   end
   try
    try
     (call $f1)
    catch $e1
     (rethrow 0)
    end
    try
     (call $f2)
    catch $e1
     (rethrow 0)
     (throw $e0)
    catch $e0
     (rethrow 0)
     (call $m (i32.const 3))
    end
   catch $e1
    (call $m (i32.const 4))
    (call $f1)
   catch_all
    try
     (call $m (i32.const 5))
    end
    try
     (call $f2)
    end
   end
  delegate 0
  (call $m (i32.const 6))
  (call $f1)
  )
  (func $f1
  (br 0)
  (throw $e1)
  try
   (call $m (i32.const 7))
   (br 1)
   try
    try
     (call $f2)
    delegate 2
   delegate 0
  end
  )
  (func $f2
  try
   (throw $e0)
  end
  try
   try
    (br 2)
    block
     (call $m (i32.const 8))
     (throw $e1)
    end
   catch $e0
    try
     (rethrow 1)
     (call $m (i32.const 9))
    delegate 2
    (call $m (i32.const 10))
   catch $e1
    (br 1)
   catch_all
    (br 0)
    (call $m (i32.const 11))
   end
   (br 1)
   block
    (br 2)
    block
     (call $m (i32.const 12))
     (call $m (i32.const 13))
    end
   end
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f2)
   block
    try
     (throw $e1)
    catch $e1
     (rethrow 0)
    catch_all
     (call $m (i32.const 1))
    end
    (call $f1)
   end
  catch $e0
   (call $f1)
   (call $f2)
  end
  try
   try
    block
     (throw $e1)
     (call $m (i32.const 2))
    end
    block
     (throw $e0)
     (call $m (i32.const 3))
    end
   catch $e0
    try
     (call $f2)
     (call $m (i32.const 4))
    catch $e0
     (call $f1)
     (call $m (i32.const 5))
    end
    try
     (br 1)
     (call $f1)
    delegate 0
   catch $e1
    try
     (throw $e1)
     (rethrow 1)
    delegate 1
   end
   try
    (call $m (i32.const 6))
   catch $e0
    (call $m (i32.const 7))
   catch $e1
    try
     (call $m (i32.const 8))
    catch $e1
     (call $m (i32.const 9))
    end
    try
     (call $m (i32.const 10))
    end
   end
   (call $f1)
  delegate 0
  (br 0)
  )
  (func $f1
  block
   block
    (throw $e0)
    try
     (call $m (i32.const 11))
    end
   end
  end
  (br 0)
  try
   (throw $e1)
   (call $m (i32.const 12))
   try
    (call $m (i32.const 13))
    (call $f2)
   end
  catch $e1
   try
    (throw $e0)
   catch $e1
    (br 1)
    try
     (throw $e0)
     (call $m (i32.const 14))
    end
   end
   block
    try
     (call $f2)
     (throw $e0)
    catch $e0
     (call $f2)
     (call $f2)
    catch_all
     (throw $e0)
    end
   end
   try
    try
     (rethrow 2)
    catch $e0
     (call $f2)
     (br 1)
    catch $e1
     (throw $e1)
    end
   catch $e0
    (call $f2)
    (br 2)
   catch_all
    try
     (call $m (i32.const 15))
     (rethrow 1)
    delegate 2
   end
  catch_all
   (call $f2)
   (call $m (i32.const 16))
  end
  )
  (func $f2
  try
   (br 0)
   try
    (br 2)
   delegate 1
  end
  (throw $e1)
  (throw $e1)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e1)
  )
  (func $f1
  block
   (call $m (i32.const 1))
   try
    (call $m (i32.const 2))
   catch $e1
    (br 0)
    try
     (call $m (i32.const 3))
     (br 1)
    catch_all
     (call $f2)
     (br 1)
    end
   catch $e0
    (call $f2)
   end
   try
    (call $m (i32.const 4))
   catch $e1
    block
     (br 1)
    end
   catch $e0
    try
     (throw $e1)
    delegate 1
   end
  end
  (br 0)
  try
   block
    (call $m (i32.const 5))
    (call $f2)
   end
  catch $e1
   (call $m (i32.const 6))
   (call $m (i32.const 7))
   block
    (call $f2)
    (call $f2)
   end
  catch $e0
   (call $f2)
   (br 0)
   (call $m (i32.const 8))
  end
  )
  (func $f2
  (throw $e1)
  try
   (call $m (i32.const 9))
   block
    (call $m (i32.const 10))
    (br 0)
   end
   (throw $e1)
  catch $e1
   (call $m (i32.const 11))
   try
    (rethrow 1)
   catch_all
    try
     (call $m (i32.const 12))
     (call $m (i32.const 13))
    delegate 0
    try
     (throw $e0)
    catch $e0
     (br 1)
    catch $e1
     (call $m (i32.const 14))
     (call $m (i32.const 15))
    catch_all
     (call $m (i32.const 16))
    end
   end
  end
  block
   try
    (throw $e0)
   end
   try
    block
     (br 3)
    end
    try
     (throw $e1)
     (br 1)
    catch $e0
     (call $m (i32.const 17))
     (call $m (i32.const 18))
    catch_all
     (call $m (i32.const 19))
    end
   catch $e1
    (throw $e1)
   catch $e0
    (br 2)
    try
     (call $m (i32.const 20))
     (call $m (i32.const 21))
    delegate 0
   catch_all
    block
     (call $m (i32.const 22))
    end
    try
     (call $m (i32.const 23))
    catch $e1
     (br 2)
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e0)
  )
  (func $f1
  (throw $e1)
  try
   try
    (br 0)
    (call $m (i32.const 1))
   catch $e1
    (call $f2)
    (rethrow 0)
   catch $e0
    (rethrow 0)
   end
  catch $e1
   (call $m (i32.const 2))
   block
    (call $m (i32.const 3))
    (br 1)
   end
   (rethrow 0)
  catch_all
   try
    (throw $e1)
   end
   (call $m (i32.const 4))
   (call $f2)
  end
  )
  (func $f2
  try
   (br 1)
   try
    (throw $e1)
   catch $e1
    (call $m (i32.const 5))
    try
     (call $m (i32.const 6))
     (rethrow 1)
    delegate 1
   catch_all
    try
     (call $m (i32.const 7))
    catch $e0
     (throw $e0)
    catch $e1
     (rethrow 1)
    end
    (throw $e0)
   end
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $m (i32.const 1))
   try
    try
     (call $m (i32.const 2))
    end
   delegate 0
   (call $f2)
  catch $e0
   (rethrow 0)
   try
    try
     (rethrow 2)
    end
   catch $e1
    try
     (throw $e1)
     (br 2)
    catch $e0
     (br 0)
    catch $e1
     (call $m (i32.const 3))
    end
    (br 1)
   end
  catch $e1
   (call $f1)
  end
  )
  (func $f1
  try
   try
    try
     (call $m (i32.const 4))
     (call $f2)
    end
   catch $e1
    (rethrow 0)
    try
     (br 3)
     (call $m (i32.const 5))
    end
   catch $e0
    (call $f2)
   catch_all
    (call $m (i32.const 6))
    try
     (call $m (i32.const 7))
    catch $e1
     (br 0)
    catch $e0
     (rethrow 1)
    catch_all
     (rethrow 0)
    end
   end
   try
    (call $m (i32.const 8))
   catch $e0
    (call $f2)
    (throw $e0)
   catch $e1
    (rethrow 0)
    (rethrow 0)
   end
  catch $e0
   block
    (call $f2)
    (call $f2)
   end
   block
    (call $m (i32.const 9))
   end
   (call $f2)
  end
  try
   try
    try
     (call $m (i32.const 10))
     (call $m (i32.const 11))
    catch_all
     (br 0)
    end
   catch $e1
    (throw $e0)
   catch $e0
    (throw $e1)
   end
   block
    (call $f2)
   end
  delegate 0
  )
  (func $f2
  block
   (call $m (i32.const 12))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1035))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  block
   try
    block
     (call $f1)
    end
    (call $m (i32.const 1))
   delegate 0
   try
    block
     (call $m (i32.const 2))
    end
    (call $f2)
   catch $e0
    block
     (throw $e1)
    end
    try
     (throw $e1)
    end
   end
  end
  (call $f1)
  (call $m (i32.const 3))
  )
  (func $f1
  (throw $e1)
  )
  (func $f2
  try
   (throw $e1)
   (call $m (i32.const 4))
  catch $e0
   try
    try
     (call $m (i32.const 5))
     (rethrow 2)
    catch_all
     (br 0)
    end
   delegate 1
   (br 1)
   try
    try
     (rethrow 2)
     (call $m (i32.const 6))
    catch_all
     (throw $e1)
     (rethrow 0)
    end
   delegate 1
  catch_all
   (rethrow 0)
   (call $m (i32.const 7))
   try
    block
     (call $m (i32.const 8))
    end
   catch $e1
    try
     (call $m (i32.const 9))
     (call $m (i32.const 10))
    delegate 2
   catch_all
    block
     (call $m (i32.const 11))
    end
   end
  end
  block
   (call $m (i32.const 12))
   try
    try
     (br 2)
     (br 1)
    delegate 2
    (throw $e0)
   catch_all
    (br 0)
   end
   (br 1)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  )
  (func $f1
  try
   block
    try
     (call $f2)
     (br 2)
    catch $e0
     (br 0)
    end
    (call $f2)
   end
   try
    (throw $e1)
   catch $e0
    try
     (call $f2)
    delegate 1
    try
     (throw $e0)
     (rethrow 1)
    catch $e1
     (call $m (i32.const 2))
    catch $e0
     (call $f2)
    end
   end
   (throw $e1)
  catch_all
   (call $f2)
   try
    (br 2)
    (throw $e1)
   catch_all
    block
     (call $f2)
     (call $m (i32.const 3))
    end
    try
     (call $m (i32.const 4))
    catch $e0
     (call $m (i32.const 5))
    end
   end
  end
  (throw $e1)
  )
  (func $f2
  (call $m (i32.const 6))
  try
   block
    (throw $e1)
    (call $m (i32.const 7))
   end
   (call $m (i32.const 8))
   block
    (call $m (i32.const 9))
   end
  catch $e1
   (rethrow 0)
  catch $e0
   (rethrow 0)
  catch_all
   (throw $e1)
  end
  (call $m (i32.const 10))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  try
   (br 1)
  delegate 0
  (call $m (i32.const 1))
  )
  (func $f1
  try
   try
    (call $f2)
   delegate 0
   (call $f2)
  catch $e1
   (throw $e1)
   (throw $e1)
   try
    (call $f2)
   catch_all
    (call $m (i32.const 2))
   end
  end
  )
  (func $f2
  try
   (call $m (i32.const 3))
   block
    try
     (call $m (i32.const 4))
     (call $m (i32.const 5))
    catch $e0
     (call $m (i32.const 6))
    catch_all
     (throw $e1)
    end
    (br 0)
   end
   (br 0)
  catch $e0
   (call $m (i32.const 7))
   (br 1)
   block
    try
     (br 3)
     (throw $e0)
    end
    (rethrow 1)
   end
  end
  try
   (call $m (i32.const 8))
   try
    try
     (call $m (i32.const 9))
    catch $e0
     (call $m (i32.const 10))
     (throw $e1)
    catch $e1
     (call $m (i32.const 11))
     (call $m (i32.const 12))
    end
   end
   block
    (call $m (i32.const 13))
   end
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e1)
  try
   try
    (br 2)
   delegate 1
   (call $m (i32.const 1))
  catch_all
   (rethrow 0)
  end
  )
  (func $f1
  block
   try
    (call $m (i32.const 2))
    (call $m (i32.const 3))
   catch $e1
    try
     (call $f2)
     (throw $e0)
    delegate 0
    (rethrow 0)
   catch $e0
    (call $m (i32.const 4))
    try
     (throw $e0)
     (br 2)
    catch $e1
     (call $m (i32.const 5))
    catch $e0
     (br 2)
    catch_all
     (call $f2)
    end
   end
   block
    try
     (call $f2)
     (call $m (i32.const 6))
    catch $e0
     (call $f2)
     (br 3)
    catch_all
     (call $f2)
     (call $m (i32.const 7))
    end
    block
     (br 3)
    end
   end
  end
  try
   (call $m (i32.const 8))
   block
    (call $f2)
   end
   try
    try
     (br 0)
     (throw $e0)
    delegate 1
   catch $e1
    (throw $e0)
   catch_all
    (throw $e1)
   end
  catch $e1
   try
    try
     (br 2)
    catch $e0
     (call $f2)
     (call $f2)
    catch $e1
     (call $f2)
     (call $f2)
    catch_all
     (call $m (i32.const 9))
    end
    try
     (br 1)
     (rethrow 2)
    catch $e0
     (call $m (i32.const 10))
    catch $e1
     (call $f2)
     (call $f2)
    end
   catch $e1
    (rethrow 1)
    block
     (throw $e1)
     (call $m (i32.const 11))
    end
   end
  catch $e0
   block
    try
     (br 3)
     (call $f2)
    catch $e1
     (br 1)
     (br 1)
    end
    try
     (rethrow 2)
     (call $m (i32.const 12))
    delegate 1
   end
   (call $m (i32.const 13))
   try
    (throw $e1)
    try
     (throw $e1)
     (call $m (i32.const 14))
    catch $e0
     (call $m (i32.const 15))
     (rethrow 2)
    catch $e1
     (call $f2)
     (br 0)
    catch_all
     (call $f2)
     (throw $e0)
    end
   end
  catch_all
   (throw $e1)
   try
    try
     (br 1)
    catch_all
     (throw $e1)
     (br 2)
    end
    (call $m (i32.const 16))
   catch $e0
    (call $m (i32.const 17))
   end
  end
  (call $f2)
  )
  (func $f2
  (br 0)
  try
   try
    block
     (throw $e0)
    end
    block
     (call $m (i32.const 18))
    end
   catch $e1
    block
     (br 3)
    end
    (rethrow 0)
   catch $e0
    (throw $e1)
    (call $m (i32.const 19))
   catch_all
    block
     (br 1)
    end
    (throw $e1)
   end
   (throw $e0)
  catch $e0
   block
    (br 2)
   end
   (call $m (i32.const 20))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    try
     (br 3)
     (call $m (i32.const 1))
    catch_all
     (throw $e0)
    end
    try
     (call $f2)
     (throw $e0)
    delegate 0
   end
   try
    try
     (br 0)
     (br 2)
    catch $e0
     (call $m (i32.const 2))
     (call $f1)
    catch $e1
     (call $m (i32.const 3))
     (br 1)
    end
    (call $m (i32.const 4))
   catch $e0
    try
     (call $m (i32.const 5))
     (call $f2)
    catch $e1
     (br 3)
    catch_all
     (br 3)
     (call $f1)
    end
   catch $e1
    try
     (br 0)
     (throw $e1)
    catch $e0
     (call $m (i32.const 6))
    catch $e1
     (call $f1)
    catch_all
     (throw $e0)
     (call $m (i32.const 7))
    end
    (rethrow 0)
   end
   (call $m (i32.const 8))
  delegate 0
  try
   block
    try
     (call $m (i32.const 9))
     (call $m (i32.const 10))
    delegate 0
   end
   (br 1)
   try
    (call $f1)
    (call $f1)
   delegate 0
  catch $e0
   (br 0)
   (call $m (i32.const 11))
   (br 1)
  catch $e1
   block
    block
     (call $f1)
     (br 1)
    end
    try
     (rethrow 2)
     (call $f1)
    delegate 2
   end
   (call $f1)
   try
    (rethrow 1)
   end
  catch_all
   (call $f2)
   (call $m (i32.const 12))
   try
    try
     (br 3)
     (throw $e1)
    delegate 2
   delegate 1
  end
  )
  (func $f1
  block
   (call $m (i32.const 13))
   (call $m (i32.const 14))
   try
    (br 0)
    (call $m (i32.const 15))
   catch $e0
    try
     (call $m (i32.const 16))
     (call $m (i32.const 17))
    delegate 0
   catch_all
    (throw $e1)
   end
  end
  try
   (call $f2)
   (br 0)
   (call $f2)
  catch $e1
   (call $m (i32.const 18))
  catch $e0
   block
    (br 0)
   end
   (throw $e1)
  catch_all
   (rethrow 0)
  end
  )
  (func $f2
  (throw $e1)
  try
   (call $m (i32.const 19))
   try
    (br 0)
    try
     (br 1)
    delegate 1
   catch $e0
    block
     (call $m (i32.const 20))
     (call $m (i32.const 21))
    end
    (br 1)
   catch_all
    (call $m (i32.const 22))
   end
   (call $m (i32.const 23))
  catch $e1
   try
    (call $m (i32.const 24))
   catch $e0
    (call $m (i32.const 25))
   catch $e1
    (throw $e0)
    try
     (call $m (i32.const 26))
     (br 2)
    catch $e1
     (call $m (i32.const 27))
    catch $e0
     (br 3)
    catch_all
     (call $m (i32.const 28))
     (throw $e0)
    end
   catch_all
    (rethrow 0)
    (call $m (i32.const 29))
   end
  end
  try
   (throw $e0)
   try
    (call $m (i32.const 30))
   catch_all
    (call $m (i32.const 31))
   end
   block
    try
     (call $m (i32.const 32))
     (call $m (i32.const 33))
    catch_all
     (throw $e0)
    end
    try
     (br 3)
    catch $e1
     (call $m (i32.const 34))
    catch_all
     (call $m (i32.const 35))
    end
   end
  catch $e1
   (call $m (i32.const 36))
  catch $e0
   try
    (br 2)
    (rethrow 1)
   delegate 0
   (throw $e1)
   (br 1)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  )
  (func $f1
  (call $m (i32.const 2))
  block
   try
    (call $f2)
   catch $e1
    (call $m (i32.const 3))
   catch $e0
    block
     (call $f2)
     (call $m (i32.const 4))
    end
    try
     (call $m (i32.const 5))
     (call $f2)
    catch $e0
     (call $f2)
    catch_all
     (call $f2)
    end
   catch_all
    block
     (call $f2)
     (call $m (i32.const 6))
    end
    try
     (call $m (i32.const 7))
     (br 3)
    delegate 2
   end
  end
  )
  (func $f2
  block
   (throw $e1)
   (call $m (i32.const 8))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  (call $f1)
  )
  (func $f1
  block
   block
    try
     (br 0)
    catch $e0
     (throw $e1)
     (call $f2)
    end
   end
  end
  )
  (func $f2
  try
   (br 1)
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  try
   try
    (call $m (i32.const 1))
    block
     (call $m (i32.const 2))
     (call $m (i32.const 3))
    end
   catch $e1
    (call $m (i32.const 4))
    try
     (br 0)
     (br 0)
    delegate 2
   catch $e0
    (br 1)
   end
  catch $e1
   try
    (br 1)
    (throw $e0)
   catch $e1
    (br 2)
   catch $e0
    try
     (call $m (i32.const 5))
     (call $m (i32.const 6))
    catch_all
     (rethrow 2)
     (rethrow 2)
    end
   catch_all
    (br 1)
    (rethrow 0)
   end
   (br 1)
   (throw $e1)
  catch $e0
   (call $f1)
   block
    (rethrow 1)
    (call $m (i32.const 7))
   end
   block
    try
     (throw $e0)
    catch $e1
     (rethrow 2)
    catch $e0
     (rethrow 2)
     (br 0)
    catch_all
     (rethrow 0)
    end
    (br 1)
   end
  catch_all
   (throw $e1)
   (call $f2)
   try
    try
     (br 2)
    delegate 1
   delegate 1
  end
  )
  (func $f1
  try
   try
    (call $m (i32.const 8))
   end
   (call $f2)
  catch $e0
   (call $f2)
  catch_all
   try
    (call $f2)
    (call $m (i32.const 9))
   catch $e0
    block
     (call $f2)
    end
   end
   try
    (call $m (i32.const 10))
   catch_all
    (call $m (i32.const 11))
    (br 0)
   end
   block
    (call $m (i32.const 12))
   end
  end
  try
   (call $m (i32.const 13))
   (call $m (i32.const 14))
  delegate 0
  )
  (func $f2
  (throw $e1)
  try
   block
    block
     (call $m (i32.const 15))
    end
   end
   try
    (call $m (i32.const 16))
    (br 2)
   delegate 0
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  (throw $e1)
  )
  (func $f1
  block
   (call $m (i32.const 2))
   try
    (call $f2)
    (br 1)
   catch $e0
    (call $f2)
    try
     (throw $e0)
    catch $e1
     (call $m (i32.const 3))
     (call $f2)
    catch $e0
     (call $m (i32.const 4))
    catch_all
     (call $f2)
     (call $f2)
    end
   catch_all
    try
     (call $m (i32.const 5))
     (call $f2)
    catch_all
     (br 3)
    end
    (throw $e0)
   end
   (call $f2)
  end
  try
   try
    try
     (call $f2)
     (call $f2)
    catch_all
     (call $m (i32.const 6))
    end
    try
     (br 0)
     (call $m (i32.const 7))
    end
   catch $e1
    try
     (call $f2)
    catch $e0
     (call $f2)
     (call $f2)
    catch $e1
     (br 2)
     (rethrow 0)
    catch_all
     (call $m (i32.const 8))
     (call $m (i32.const 9))
    end
   catch $e0
    (call $m (i32.const 10))
    (throw $e0)
   catch_all
    (rethrow 0)
   end
   (br 1)
  catch $e0
   (rethrow 0)
   (throw $e0)
   try
    (call $m (i32.const 11))
   catch_all
    try
     (call $m (i32.const 12))
     (call $f2)
    end
    (throw $e1)
   end
  catch $e1
   (call $m (i32.const 13))
   block
    (call $f2)
   end
   (call $f2)
  catch_all
   (call $m (i32.const 14))
   try
    try
     (rethrow 2)
    end
   delegate 1
   try
    try
     (throw $e1)
    delegate 1
    (br 1)
   delegate 1
  end
  (call $m (i32.const 15))
  )
  (func $f2
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  try
   block
    try
     (call $f2)
     (call $m (i32.const 2))
    catch_all
     (call $f1)
    end
    block
     (throw $e0)
     (br 2)
    end
   end
  catch $e1
   (rethrow 0)
  catch $e0
   (call $m (i32.const 3))
  end
  )
  (func $f1
  (call $f2)
  )
  (func $f2
  (br 0)
  block
   try
    try
     (br 1)
     (call $m (i32.const 4))
    catch $e0
     (call $m (i32.const 5))
    end
    try
     (br 3)
     (throw $e1)
    delegate 2
   catch $e1
    try
     (throw $e0)
     (rethrow 1)
    catch $e0
     (throw $e0)
    catch $e1
     (br 2)
     (call $m (i32.const 6))
    catch_all
     (throw $e0)
    end
   catch_all
    (br 1)
    try
     (br 1)
    delegate 0
   end
  end
  (throw $e1)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1026))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  block
   try
    try
     (call $f1)
     (call $m (i32.const 1))
    end
   end
   try
    try
     (call $m (i32.const 2))
     (call $f1)
    catch $e0
     (br 2)
    catch $e1
     (call $f2)
    end
   catch $e1
    (br 0)
   catch $e0
    (rethrow 0)
    (throw $e0)
   catch_all
    (call $f1)
   end
   (throw $e1)
  end
  )
  (func $f1
  (br 0)
  try
   (br 0)
   (call $m (i32.const 3))
   (br 1)
  catch $e1
   (rethrow 0)
   try
    (call $m (i32.const 4))
    (throw $e1)
   catch_all
    (throw $e0)
    try
     (br 2)
     (throw $e1)
    delegate 2
   end
   try
    try
     (call $m (i32.const 5))
    catch $e0
     (throw $e1)
    end
   catch $e1
    (call $m (i32.const 6))
    block
     (call $m (i32.const 7))
     (call $m (i32.const 8))
    end
   catch_all
    (call $f2)
   end
  catch_all
   try
    try
     (call $m (i32.const 9))
    delegate 2
    block
     (throw $e1)
     (throw $e0)
    end
   end
   (call $f2)
   (throw $e0)
  end
  (call $f2)
  )
  (func $f2
  (call $m (i32.const 10))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  )
  (func $f1
  try
   block
    block
     (call $m (i32.const 2))
    end
   end
   (br 1)
  catch $e0
   (call $m (i32.const 3))
  catch_all
   (call $f2)
   (call $f2)
   (call $m (i32.const 4))
  end
  try
   (throw $e1)
   (call $f2)
  delegate 0
  )
  (func $f2
  block
   block
    try
     (call $m (i32.const 5))
    delegate 1
    try
     (call $m (i32.const 6))
    catch $e1
     (call $m (i32.const 7))
     (call $m (i32.const 8))
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f2)
   block
    (call $m (i32.const 1))
   end
  catch $e1
   try
    block
     (call $f2)
    end
   catch $e1
    (call $m (i32.const 2))
    try
     (rethrow 1)
     (call $f2)
    catch $e0
     (call $m (i32.const 3))
    end
   catch $e0
    try
     (call $m (i32.const 4))
    end
    (call $f2)
   end
  end
  try
   (call $f2)
   try
    try
     (call $f1)
     (call $m (i32.const 5))
    catch $e0
     (rethrow 0)
     (call $f2)
    end
    (br 0)
   catch $e1
    (call $f2)
   catch $e0
    try
     (rethrow 1)
    delegate 2
    try
     (call $m (i32.const 6))
    catch $e1
     (call $f1)
    catch $e0
     (call $m (i32.const 7))
    end
   catch_all
    try
     (call $f2)
    catch $e0
     (call $m (i32.const 8))
    catch $e1
     (call $m (i32.const 9))
    catch_all
     (br 1)
     (rethrow 0)
    end
    (call $m (i32.const 10))
   end
  catch $e0
   (call $m (i32.const 11))
  end
  (call $m (i32.const 12))
  )
  (func $f1
  (call $f2)
  block
   try
    (call $f2)
   delegate 0
   try
    block
     (br 3)
    end
   catch_all
    (br 1)
    block
     (throw $e0)
     (rethrow 1)
    end
   end
   block
    try
     (call $f2)
    catch $e0
     (br 3)
    catch_all
     (throw $e1)
    end
    (call $f2)
   end
  end
  )
  (func $f2
  (throw $e0)
  (throw $e0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  (call $f1)
  (call $m (i32.const 1))
  )
  (func $f1
  (throw $e0)
  )
  (func $f2
  (br 0)
  try
   try
    (throw $e1)
    (throw $e1)
   end
  catch $e0
   (throw $e1)
   (rethrow 0)
   (call $m (i32.const 2))
  catch $e1
   try
    (rethrow 1)
    try
     (br 0)
     (rethrow 2)
    end
   delegate 0
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  )
  (func $f1
  (throw $e1)
  )
  (func $f2
  (throw $e0)
  try
   (br 1)
   (throw $e0)
   try
    try
     (br 3)
    catch_all
     (call $m (i32.const 2))
     (rethrow 0)
    end
    (call $m (i32.const 3))
   catch $e1
    try
     (call $m (i32.const 4))
     (rethrow 1)
    catch $e0
     (rethrow 0)
    catch_all
     (rethrow 0)
    end
    (call $m (i32.const 5))
   catch $e0
    try
     (br 0)
     (rethrow 1)
    catch $e1
     (throw $e1)
    catch_all
     (call $m (i32.const 6))
     (call $m (i32.const 7))
    end
   catch_all
    try
     (call $m (i32.const 8))
     (rethrow 1)
    delegate 0
   end
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  )
  (func $f1
  (call $m (i32.const 1))
  try
   try
    try
     (call $m (i32.const 2))
     (throw $e0)
    catch $e0
     (call $f2)
     (br 2)
    catch $e1
     (rethrow 0)
     (call $f2)
    catch_all
     (rethrow 0)
     (rethrow 0)
    end
   delegate 0
   try
    (throw $e1)
    try
     (call $f2)
     (call $m (i32.const 3))
    catch $e1
     (call $m (i32.const 4))
    catch $e0
     (call $f2)
     (br 1)
    catch_all
     (rethrow 0)
     (throw $e0)
    end
   catch $e1
    (throw $e0)
   end
   (call $f2)
  catch $e0
   try
    (call $m (i32.const 5))
    (rethrow 1)
   catch $e1
    (throw $e1)
   end
   (call $m (i32.const 6))
   try
    block
     (throw $e1)
    end
   catch $e0
    try
     (call $f2)
     (call $f2)
    delegate 1
   catch_all
    (call $f2)
    (throw $e1)
   end
  end
  try
   try
    try
     (call $f2)
     (call $m (i32.const 7))
    catch $e0
     (call $f2)
     (call $m (i32.const 8))
    end
   catch $e1
    try
     (rethrow 1)
    catch_all
     (br 2)
    end
   catch $e0
    (call $m (i32.const 9))
    (call $f2)
   catch_all
    try
     (call $m (i32.const 10))
     (br 2)
    catch $e0
     (br 0)
    end
   end
   block
    (call $m (i32.const 11))
   end
   try
    (call $m (i32.const 12))
    block
     (br 1)
     (br 0)
    end
   catch $e1
    (rethrow 0)
    (call $m (i32.const 13))
   end
  end
  )
  (func $f2
  try
   (br 0)
   try
    try
     (br 0)
     (throw $e0)
    catch_all
     (call $m (i32.const 14))
     (rethrow 0)
    end
   catch $e0
    (call $m (i32.const 15))
    try
     (br 1)
    catch $e0
     (call $m (i32.const 16))
     (throw $e1)
    catch_all
     (throw $e0)
     (br 0)
    end
   catch $e1
    try
     (br 2)
     (br 0)
    delegate 1
   catch_all
    block
     (throw $e0)
    end
   end
  catch_all
   (call $m (i32.const 17))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e1)
  )
  (func $f1
  try
   try
    (call $m (i32.const 1))
    block
     (call $m (i32.const 2))
     (call $f2)
    end
   catch $e0
    (br 2)
    (call $m (i32.const 3))
   catch $e1
    (rethrow 0)
    try
     (call $m (i32.const 4))
    catch $e0
     (call $f2)
    end
   catch_all
    block
     (rethrow 1)
     (call $f2)
    end
    try
     (throw $e0)
    catch $e1
     (throw $e0)
    catch $e0
     (call $m (i32.const 5))
    catch_all
     (rethrow 0)
    end
   end
   (call $f2)
   block
    try
     (call $m (i32.const 6))
    catch $e1
     (throw $e1)
     (call $m (i32.const 7))
    catch $e0
     (call $f2)
     (rethrow 0)
    end
    block
     (call $f2)
    end
   end
  end
  (call $f2)
  )
  (func $f2
  (call $m (i32.const 8))
  try
   try
    (call $m (i32.const 9))
    try
     (br 0)
    end
   delegate 0
   try
    (br 1)
   end
   try
    try
     (throw $e1)
    catch_all
     (call $m (i32.const 10))
    end
   catch $e0
    (throw $e0)
    (br 1)
   catch $e1
    (call $m (i32.const 11))
   end
  catch_all
   (br 0)
   try
    try
     (throw $e0)
     (throw $e1)
    delegate 2
   catch $e0
    block
     (br 3)
    end
   end
   (throw $e0)
  end
  try
   try
    (call $m (i32.const 12))
   catch_all
    (br 0)
   end
   try
    try
     (call $m (i32.const 13))
    delegate 1
    (call $m (i32.const 14))
   delegate 0
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e1)
  try
   (br 0)
  catch $e0
   try
    (rethrow 1)
   catch $e1
    (call $f1)
   catch_all
    (call $f2)
   end
   try
    try
     (br 2)
    delegate 2
   catch $e0
    (call $m (i32.const 1))
   catch_all
    (br 1)
   end
   (call $m (i32.const 2))
  end
  )
  (func $f1
  try
   try
    try
     (call $f2)
    catch $e0
     (call $m (i32.const 3))
     (call $m (i32.const 4))
    catch $e1
     (call $m (i32.const 5))
     (rethrow 0)
    end
   catch $e0
    try
     (br 0)
    catch $e1
     (call $m (i32.const 6))
     (call $f2)
    catch_all
     (call $f2)
    end
    block
     (br 0)
     (rethrow 1)
    end
   catch_all
    (rethrow 0)
    try
     (rethrow 1)
    delegate 2
   end
   (call $f2)
  delegate 0
  try
   (call $f2)
   try
    try
     (call $m (i32.const 7))
     (call $m (i32.const 8))
    end
    try
     (call $m (i32.const 9))
     (call $m (i32.const 10))
    catch_all
     (rethrow 0)
     (call $m (i32.const 11))
    end
   catch $e1
    try
     (call $f2)
    catch_all
     (call $f2)
     (call $m (i32.const 12))
    end
    (throw $e1)
   catch $e0
    (call $m (i32.const 13))
   catch_all
    (throw $e0)
    (call $f2)
   end
   (br 0)
  delegate 0
  (call $f2)
  )
  (func $f2
  (throw $e1)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  (call $f2)
  (br 0)
  )
  (func $f1
  (call $m (i32.const 1))
  try
   (throw $e1)
  catch $e0
   (rethrow 0)
   (call $f2)
   (throw $e0)
  catch $e1
   try
    (rethrow 1)
    (rethrow 1)
   delegate 1
   (call $f2)
   (call $f2)
  end
  (throw $e1)
  )
  (func $f2
  try
   (call $m (i32.const 2))
   try
    try
     (throw $e1)
    delegate 1
   catch $e1
    block
     (rethrow 1)
    end
   end
  catch $e0
   (rethrow 0)
  catch $e1
   try
    block
     (br 2)
    end
   delegate 0
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $m (i32.const 1))
  catch $e1
   try
    (br 0)
   catch $e0
    block
     (call $f1)
    end
    try
     (call $f1)
    catch $e1
     (call $m (i32.const 2))
    end
   catch $e1
    (call $f2)
    (call $m (i32.const 3))
   end
  catch $e0
   (rethrow 0)
   block
    (call $f1)
    (rethrow 1)
   end
  end
  )
  (func $f1
  (call $f2)
  try
   (call $m (i32.const 4))
  catch $e0
   (br 1)
   try
    (throw $e0)
    try
     (rethrow 2)
    catch $e1
     (call $m (i32.const 5))
    catch_all
     (call $m (i32.const 6))
     (call $f2)
    end
   end
  end
  block
   (br 0)
   try
    (call $f2)
    try
     (call $m (i32.const 7))
    catch $e1
     (call $f2)
    end
   delegate 1
  end
  )
  (func $f2
  block
   try
    (throw $e0)
   delegate 0
   (call $m (i32.const 8))
   try
    (br 1)
   catch_all
    try
     (rethrow 1)
     (call $m (i32.const 9))
    catch $e1
     (throw $e0)
     (call $m (i32.const 10))
    catch $e0
     (br 0)
    end
   end
  end
  try
   try
    (call $m (i32.const 11))
   delegate 1
   block
    try
     (call $m (i32.const 12))
     (throw $e1)
    catch_all
     (rethrow 0)
    end
   end
  catch $e0
   try
    try
     (rethrow 2)
     (rethrow 2)
    catch $e1
     (br 3)
     (call $m (i32.const 13))
    catch_all
     (call $m (i32.const 14))
    end
   end
   (call $m (i32.const 15))
  catch $e1
   try
    (br 1)
   catch $e1
    (throw $e0)
   catch $e0
    (throw $e1)
   catch_all
    try
     (throw $e0)
     (rethrow 1)
    catch $e1
     (call $m (i32.const 16))
    catch_all
     (call $m (i32.const 17))
     (call $m (i32.const 18))
    end
   end
   (br 0)
  catch_all
   try
    (throw $e0)
   catch $e1
    block
     (call $m (i32.const 19))
     (rethrow 2)
    end
   catch $e0
    (call $m (i32.const 20))
    try
     (call $m (i32.const 21))
     (throw $e0)
    catch $e0
     (throw $e1)
    catch_all
     (throw $e0)
     (call $m (i32.const 22))
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  (br 0)
  )
  (func $f1
  (call $f2)
  (br 0)
  )
  (func $f2
  try
   try
    try
     (br 0)
    catch $e1
     (call $m (i32.const 1))
    catch $e0
     (call $m (i32.const 2))
    end
    try
     (throw $e0)
     (throw $e0)
    catch $e1
     (throw $e1)
    catch_all
     (call $m (i32.const 3))
     (call $m (i32.const 4))
    end
   catch $e1
    (br 2)
   end
  catch $e1
   (br 0)
  catch_all
   (br 0)
  end
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 97))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  block
   (call $f1)
   try
    try
     (call $m (i32.const 1))
    catch $e0
     (call $m (i32.const 2))
    catch $e1
     (call $m (i32.const 3))
     (br 1)
    end
   delegate 1
   (call $f1)
  end
  )
  (func $f1
  (call $f2)
  (call $f2)
  (br 0)
  )
  (func $f2
  try
   try
    try
     (call $m (i32.const 4))
     (call $m (i32.const 5))
    end
    try
     (call $m (i32.const 6))
     (throw $e1)
    catch $e1
     (call $m (i32.const 7))
    end
   catch $e0
    try
     (throw $e1)
     (throw $e1)
    catch $e0
     (rethrow 1)
     (call $m (i32.const 8))
    end
    (call $m (i32.const 9))
   catch $e1
    try
     (call $m (i32.const 10))
    delegate 0
    (br 1)
   catch_all
    (throw $e1)
    (call $m (i32.const 11))
   end
  catch $e0
   try
    block
     (call $m (i32.const 12))
    end
   catch_all
    try
     (br 0)
    catch $e0
     (call $m (i32.const 13))
     (rethrow 1)
    catch $e1
     (rethrow 2)
    catch_all
     (rethrow 2)
    end
    try
     (rethrow 1)
    catch_all
     (throw $e0)
    end
   end
   try
    (call $m (i32.const 14))
    (call $m (i32.const 15))
   catch $e1
    (rethrow 0)
    (call $m (i32.const 16))
   catch $e0
    (throw $e0)
   end
  catch $e1
   try
    try
     (call $m (i32.const 17))
     (call $m (i32.const 18))
    delegate 2
   catch_all
    (call $m (i32.const 19))
    try
     (throw $e0)
    catch_all
     (throw $e0)
     (rethrow 0)
    end
   end
   (rethrow 0)
  catch_all
   block
    try
     (call $m (i32.const 20))
    catch $e0
     (rethrow 2)
     (rethrow 2)
    catch_all
     (throw $e1)
     (call $m (i32.const 21))
    end
    (call $m (i32.const 22))
   end
   (call $m (i32.const 23))
   (br 1)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1166168961))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  )
  (func $f1
  try
   (call $m (i32.const 2))
   try
    (br 2)
    block
     (call $m (i32.const 3))
     (call $f2)
    end
   catch $e1
    try
     (call $m (i32.const 4))
    delegate 1
    (throw $e1)
   catch_all
    try
     (br 3)
    delegate 0
   end
   (call $m (i32.const 5))
  catch $e0
   try
    try
     (call $f2)
    catch_all
     (call $m (i32.const 6))
     (rethrow 2)
    end
   catch $e1
    block
     (call $m (i32.const 7))
    end
   catch_all
    (call $m (i32.const 8))
   end
   (throw $e1)
   try
    block
     (call $m (i32.const 9))
     (call $f2)
    end
    (rethrow 1)
   catch $e1
    (call $m (i32.const 10))
    try
     (call $f2)
     (call $m (i32.const 11))
    catch $e1
     (call $m (i32.const 12))
     (call $m (i32.const 13))
    end
   catch_all
    try
     (br 0)
     (rethrow 1)
    catch $e0
     (br 2)
    catch $e1
     (call $m (i32.const 14))
    catch_all
     (call $f2)
     (rethrow 1)
    end
    (call $f2)
   end
  catch $e1
   (call $m (i32.const 15))
   block
    (throw $e0)
    try
     (call $f2)
    end
   end
  catch_all
   (call $m (i32.const 16))
   try
    (rethrow 1)
    try
     (br 3)
     (throw $e1)
    catch_all
     (call $f2)
     (call $f2)
    end
   catch $e1
    try
     (call $m (i32.const 17))
    catch $e0
     (call $m (i32.const 18))
     (call $f2)
    catch_all
     (call $f2)
    end
   end
   try
    (call $f2)
    (throw $e1)
   catch $e1
    try
     (rethrow 2)
    catch $e1
     (call $m (i32.const 19))
    end
    block
     (rethrow 2)
    end
   catch $e0
    try
     (call $m (i32.const 20))
    delegate 2
   end
  end
  try
   try
    try
     (call $m (i32.const 21))
     (call $f2)
    catch $e0
     (throw $e1)
    catch_all
     (call $m (i32.const 22))
    end
    try
     (call $m (i32.const 23))
    delegate 0
   catch_all
    (rethrow 0)
   end
  catch $e1
   (call $f2)
  end
  (call $f2)
  )
  (func $f2
  try
   (call $m (i32.const 24))
  end
  try
   (call $m (i32.const 25))
   (br 1)
   try
    (call $m (i32.const 26))
    block
     (call $m (i32.const 27))
     (br 1)
    end
   delegate 0
  catch $e0
   (call $m (i32.const 28))
   block
    try
     (call $m (i32.const 29))
     (rethrow 2)
    delegate 0
    (br 0)
   end
  catch $e1
   try
    try
     (call $m (i32.const 30))
     (rethrow 2)
    delegate 2
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $m (i32.const 1))
  catch $e0
   (call $m (i32.const 2))
  catch $e1
   (call $m (i32.const 3))
   try
    try
     (call $f1)
     (br 2)
    catch $e0
     (rethrow 0)
    catch_all
     (call $m (i32.const 4))
    end
   catch $e1
    try
     (call $m (i32.const 5))
    delegate 2
   catch $e0
    block
     (throw $e0)
     (call $m (i32.const 6))
    end
   catch_all
    (rethrow 0)
   end
   (call $f1)
  end
  try
   (call $m (i32.const 7))
   (call $f1)
   try
    block
     (call $f1)
    end
    (call $f2)
   catch $e1
    (call $f2)
    try
     (call $f2)
     (call $m (i32.const 8))
    catch_all
     (throw $e1)
    end
   catch $e0
    (call $f2)
    try
     (call $f1)
    catch $e1
     (call $f2)
    catch $e0
     (throw $e1)
     (call $m (i32.const 9))
    catch_all
     (br 0)
    end
   end
  catch $e1
   (call $f2)
  catch $e0
   (throw $e1)
  end
  try
   try
    try
     (throw $e0)
    end
    try
     (br 2)
    catch_all
     (call $m (i32.const 10))
    end
   catch $e1
    try
     (rethrow 1)
    end
    try
     (call $f1)
    delegate 0
   catch_all
    (rethrow 0)
    (br 0)
   end
  catch_all
   (throw $e0)
   (br 1)
   (throw $e1)
  end
  )
  (func $f1
  (call $f2)
  try
   try
    (br 0)
    (throw $e1)
   catch_all
    (rethrow 0)
   end
   (call $f2)
  delegate 0
  block
   (throw $e1)
  end
  )
  (func $f2
  (throw $e0)
  block
   try
    try
     (call $m (i32.const 11))
     (br 0)
    delegate 1
   catch $e1
    (call $m (i32.const 12))
   catch $e0
    (call $m (i32.const 13))
   catch_all
    block
     (br 0)
    end
   end
   (call $m (i32.const 14))
  end
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (br 0)
  catch $e0
   (throw $e0)
   (call $f1)
   try
    try
     (call $m (i32.const 1))
     (call $f2)
    catch_all
     (call $f2)
     (throw $e1)
    end
    (throw $e0)
   catch_all
    (throw $e0)
    (rethrow 0)
   end
  end
  )
  (func $f1
  (call $m (i32.const 2))
  try
   (throw $e1)
   (call $f2)
   (call $m (i32.const 3))
  delegate 0
  )
  (func $f2
  (call $m (i32.const 4))
  (throw $e0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $m (i32.const 1))
   (br 0)
  catch $e1
   (call $f1)
   (call $m (i32.const 2))
   (br 1)
  catch $e0
   try
    try
     (call $m (i32.const 3))
    delegate 2
    try
     (call $m (i32.const 4))
     (call $f2)
    delegate 2
   end
   try
    try
     (rethrow 2)
    catch $e0
     (br 3)
    catch_all
     (throw $e0)
     (call $m (i32.const 5))
    end
    (call $m (i32.const 6))
   catch $e1
    (call $f2)
   catch $e0
    try
     (call $f2)
     (throw $e1)
    delegate 1
   catch_all
    try
     (call $m (i32.const 7))
    catch_all
     (call $m (i32.const 8))
     (call $m (i32.const 9))
    end
    (call $f1)
   end
  catch_all
   (br 0)
   try
    (call $m (i32.const 10))
    block
     (throw $e0)
    end
   catch $e1
    try
     (br 3)
    catch $e1
     (br 3)
     (br 0)
    catch_all
     (call $m (i32.const 11))
    end
   catch_all
    (rethrow 0)
    (call $m (i32.const 12))
   end
   try
    try
     (call $m (i32.const 13))
     (rethrow 2)
    catch $e0
     (br 2)
    catch $e1
     (call $m (i32.const 14))
     (call $f1)
    catch_all
     (rethrow 2)
     (call $f2)
    end
    try
     (call $f1)
    end
   delegate 0
  end
  (call $f1)
  )
  (func $f1
  (throw $e1)
  try
   (call $m (i32.const 15))
   (throw $e1)
   (call $m (i32.const 16))
  catch $e0
   try
    (call $f2)
   catch $e0
    (call $f2)
    (call $f2)
   catch $e1
    try
     (rethrow 1)
    catch $e0
     (call $m (i32.const 17))
    catch $e1
     (call $f2)
    end
   end
   try
    try
     (call $f2)
    delegate 0
    (rethrow 1)
   catch $e0
    try
     (rethrow 2)
    delegate 2
    (throw $e0)
   catch $e1
    (br 2)
    try
     (call $f2)
    catch $e0
     (call $f2)
    catch $e1
     (throw $e1)
     (call $f2)
    catch_all
     (call $f2)
    end
   end
   (br 1)
  catch_all
   (call $m (i32.const 18))
  end
  )
  (func $f2
  (call $m (i32.const 19))
  (call $m (i32.const 20))
  (call $m (i32.const 21))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  try
   try
    try
     (throw $e1)
     (call $f2)
    catch $e0
     (throw $e1)
    end
   catch_all
    (call $m (i32.const 2))
   end
   (call $f1)
  catch_all
   (throw $e0)
   (call $f2)
  end
  (throw $e0)
  )
  (func $f1
  (br 0)
  )
  (func $f2
  (call $m (i32.const 3))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  )
  (func $f1
  (call $f2)
  )
  (func $f2
  try
   block
    try
     (call $m (i32.const 1))
    delegate 0
    (throw $e0)
   end
   (call $m (i32.const 2))
  catch_all
   try
    (throw $e0)
    try
     (rethrow 2)
    catch_all
     (call $m (i32.const 3))
     (throw $e0)
    end
   catch $e1
    block
     (br 1)
    end
    (call $m (i32.const 4))
   catch_all
    try
     (call $m (i32.const 5))
     (throw $e1)
    catch_all
     (call $m (i32.const 6))
     (br 2)
    end
   end
   try
    (call $m (i32.const 7))
    try
     (rethrow 2)
     (br 2)
    end
   catch_all
    (throw $e1)
    (br 1)
   end
   (throw $e1)
  end
  try
   (br 1)
  catch_all
   (rethrow 0)
   (call $m (i32.const 8))
   try
    try
     (call $m (i32.const 9))
    delegate 2
   catch $e0
    block
     (br 2)
     (throw $e0)
    end
    try
     (br 1)
     (call $m (i32.const 10))
    catch $e1
     (br 0)
    catch_all
     (throw $e0)
    end
   catch_all
    try
     (call $m (i32.const 11))
    catch $e0
     (rethrow 1)
    catch $e1
     (call $m (i32.const 12))
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1122))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  try
   (call $f1)
  end
  (call $m (i32.const 2))
  )
  (func $f1
  try
   (throw $e1)
  end
  block
   (call $m (i32.const 3))
   (call $m (i32.const 4))
   try
    try
     (call $m (i32.const 5))
    end
    try
     (call $m (i32.const 6))
     (call $m (i32.const 7))
    catch $e0
     (rethrow 0)
     (call $f2)
    catch_all
     (call $f2)
    end
   catch $e1
    (call $m (i32.const 8))
   catch $e0
    (br 0)
    (br 2)
   end
  end
  try
   block
    (call $m (i32.const 9))
    (call $f2)
   end
   try
    try
     (call $m (i32.const 10))
    catch $e1
     (call $m (i32.const 11))
    end
    (call $m (i32.const 12))
   catch $e0
    (call $m (i32.const 13))
   catch_all
    (call $m (i32.const 14))
    (call $m (i32.const 15))
   end
  catch $e1
   (throw $e0)
   try
    block
     (br 3)
    end
   catch $e0
    try
     (throw $e1)
     (call $m (i32.const 16))
    catch $e1
     (call $f2)
     (call $m (i32.const 17))
    catch $e0
     (throw $e0)
     (call $m (i32.const 18))
    catch_all
     (br 2)
     (rethrow 2)
    end
    (call $f2)
   catch $e1
    (throw $e0)
    (rethrow 0)
   catch_all
    (throw $e0)
   end
   try
    (call $m (i32.const 19))
   catch $e0
    (call $f2)
   catch_all
    (call $m (i32.const 20))
    block
     (call $m (i32.const 21))
    end
   end
  catch_all
   (call $f2)
   try
    try
     (call $m (i32.const 22))
     (call $f2)
    catch $e1
     (rethrow 0)
    end
   delegate 1
   (br 1)
  end
  )
  (func $f2
  block
   (throw $e0)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (br 0)
   block
    try
     (call $m (i32.const 1))
     (call $m (i32.const 2))
    catch $e0
     (rethrow 0)
    catch $e1
     (br 2)
    catch_all
     (call $m (i32.const 3))
    end
    (call $f1)
   end
   (br 1)
  catch $e1
   try
    (rethrow 1)
   catch_all
    (call $f2)
   end
   (call $f2)
  catch_all
   (rethrow 0)
   (throw $e1)
   (call $f2)
  end
  try
   try
    (call $m (i32.const 4))
    (call $f1)
   catch $e0
    try
     (call $m (i32.const 5))
     (call $f2)
    delegate 1
   end
   block
    (call $f1)
    (throw $e0)
   end
  catch $e1
   block
    (call $m (i32.const 6))
   end
   (call $f1)
   (rethrow 0)
  catch $e0
   (call $f2)
   (call $f1)
  end
  try
   try
    (call $m (i32.const 7))
   delegate 0
  catch_all
   try
    (br 0)
    (call $m (i32.const 8))
   end
   (call $f2)
  end
  )
  (func $f1
  (call $m (i32.const 9))
  (throw $e1)
  try
   (call $f2)
   try
    (call $m (i32.const 10))
    try
     (call $m (i32.const 11))
    catch $e0
     (throw $e1)
     (call $m (i32.const 12))
    catch $e1
     (call $m (i32.const 13))
     (call $m (i32.const 14))
    end
   catch $e0
    (rethrow 0)
    (br 0)
   catch $e1
    (throw $e1)
    (br 0)
   end
  catch $e0
   (call $m (i32.const 15))
   try
    (call $m (i32.const 16))
   delegate 1
   (call $m (i32.const 17))
  catch_all
   try
    (call $m (i32.const 18))
   catch $e0
    (rethrow 1)
    (br 0)
   catch $e1
    (br 2)
    try
     (call $f2)
    catch $e1
     (call $m (i32.const 19))
     (call $f2)
    catch $e0
     (call $m (i32.const 20))
    end
   catch_all
    try
     (call $f2)
     (call $f2)
    catch $e1
     (call $m (i32.const 21))
    catch_all
     (call $f2)
    end
   end
   try
    try
     (call $f2)
     (call $m (i32.const 22))
    catch_all
     (rethrow 0)
     (br 3)
    end
   catch $e1
    (call $m (i32.const 23))
   catch $e0
    (call $m (i32.const 24))
   catch_all
    (call $m (i32.const 25))
   end
  end
  )
  (func $f2
  block
   try
    (br 0)
    block
     (call $m (i32.const 26))
    end
   catch $e1
    block
     (call $m (i32.const 27))
    end
    (br 0)
   catch_all
    (br 2)
    (call $m (i32.const 28))
   end
   try
    try
     (throw $e1)
     (call $m (i32.const 29))
    catch $e1
     (br 3)
    catch $e0
     (br 1)
     (throw $e0)
    end
    (call $m (i32.const 30))
   catch $e0
    (call $m (i32.const 31))
    try
     (br 1)
    catch $e1
     (rethrow 0)
    catch $e0
     (call $m (i32.const 32))
    end
   end
   try
    block
     (call $m (i32.const 33))
     (br 2)
    end
   end
  end
  (call $m (i32.const 34))
  try
   (call $m (i32.const 35))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  )
  (func $f1
  try
   (throw $e0)
   (br 0)
  catch $e1
   (call $m (i32.const 2))
   try
    (br 0)
   delegate 0
  end
  (call $f2)
  )
  (func $f2
  try
   block
    try
     (call $m (i32.const 3))
    catch $e0
     (call $m (i32.const 4))
     (rethrow 0)
    end
    try
     (throw $e0)
     (throw $e1)
    catch $e1
     (br 1)
    catch $e0
     (rethrow 0)
     (call $m (i32.const 5))
    catch_all
     (call $m (i32.const 6))
     (call $m (i32.const 7))
    end
   end
   block
    try
     (call $m (i32.const 8))
     (throw $e0)
    delegate 1
   end
  catch $e1
   try
    (rethrow 1)
   delegate 0
   try
    try
     (throw $e1)
    delegate 2
    block
     (call $m (i32.const 9))
    end
   catch $e1
    (call $m (i32.const 10))
   end
  end
  try
   (call $m (i32.const 11))
   (br 1)
   try
    try
     (br 0)
     (br 1)
    catch $e0
     (br 2)
    catch $e1
     (call $m (i32.const 12))
    catch_all
     (rethrow 0)
     (call $m (i32.const 13))
    end
    try
     (call $m (i32.const 14))
    delegate 1
   catch $e0
    (br 2)
   catch $e1
    try
     (throw $e0)
    catch_all
     (throw $e0)
    end
    try
     (throw $e0)
    catch $e0
     (call $m (i32.const 15))
     (call $m (i32.const 16))
    catch_all
     (call $m (i32.const 17))
     (throw $e0)
    end
   end
  catch $e0
   (call $m (i32.const 18))
   block
    try
     (rethrow 2)
     (br 2)
    catch $e0
     (br 0)
     (call $m (i32.const 19))
    catch_all
     (throw $e1)
     (br 3)
    end
    (br 2)
   end
  catch $e1
   (throw $e0)
  catch_all
   try
    try
     (throw $e1)
     (call $m (i32.const 20))
    end
   delegate 0
  end
  block
   (br 0)
   block
    try
     (call $m (i32.const 21))
     (br 1)
    catch $e1
     (call $m (i32.const 22))
     (rethrow 0)
    catch $e0
     (throw $e0)
     (call $m (i32.const 23))
    end
    (call $m (i32.const 24))
   end
   try
    (call $m (i32.const 25))
    try
     (br 2)
     (br 3)
    delegate 2
   catch $e1
    (call $m (i32.const 26))
    (call $m (i32.const 27))
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  )
  (func $f1
  (call $f2)
  (call $m (i32.const 1))
  try
   (call $f2)
   (throw $e1)
  delegate 0
  )
  (func $f2
  try
   (br 0)
  catch $e1
   try
    try
     (throw $e0)
     (br 3)
    catch $e1
     (rethrow 2)
    end
    (throw $e0)
   catch $e1
    (br 2)
   catch $e0
    block
     (br 0)
    end
   catch_all
    (call $m (i32.const 2))
   end
   try
    (br 2)
    (call $m (i32.const 3))
   catch $e0
    block
     (throw $e0)
    end
   end
  end
  (call $m (i32.const 4))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  (call $m (i32.const 1))
  )
  (func $f1
  try
   (call $f2)
   (call $m (i32.const 2))
  delegate 0
  try
   try
    (br 1)
    block
     (call $f2)
    end
   end
   try
    try
     (call $m (i32.const 3))
     (throw $e1)
    catch $e0
     (throw $e1)
     (call $f2)
    catch_all
     (throw $e0)
    end
    (call $m (i32.const 4))
   end
  end
  )
  (func $f2
  try
   (throw $e1)
  catch $e1
   (call $m (i32.const 5))
  catch_all
   (call $m (i32.const 6))
   try
    (call $m (i32.const 7))
   delegate 1
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 156))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e1)
  try
   (call $m (i32.const 1))
   try
    (call $m (i32.const 2))
    try
     (call $m (i32.const 3))
    catch $e1
     (call $m (i32.const 4))
    catch $e0
     (call $f1)
    end
   catch $e0
    (rethrow 0)
   catch $e1
    try
     (rethrow 1)
    delegate 0
    try
     (call $m (i32.const 5))
    end
   end
   try
    (call $m (i32.const 6))
    try
     (call $m (i32.const 7))
     (call $f1)
    delegate 0
   delegate 0
  delegate 0
  )
  (func $f1
  (throw $e1)
  )
  (func $f2
  (br 0)
  (call $m (i32.const 8))
  try
   try
    (throw $e1)
   catch $e1
    try
     (rethrow 1)
     (br 1)
    delegate 2
    block
     (br 3)
     (call $m (i32.const 9))
    end
   catch_all
    (call $m (i32.const 10))
   end
   try
    (call $m (i32.const 11))
    (throw $e1)
   catch $e0
    (throw $e0)
    try
     (rethrow 1)
    delegate 1
   catch $e1
    try
     (throw $e1)
     (call $m (i32.const 12))
    catch $e0
     (throw $e1)
     (rethrow 1)
    catch $e1
     (call $m (i32.const 13))
     (rethrow 0)
    end
    (throw $e1)
   end
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    try
     (throw $e0)
     (call $f1)
    delegate 0
    try
     (throw $e1)
    delegate 2
   catch $e0
    try
     (call $m (i32.const 1))
    catch $e0
     (br 3)
    catch $e1
     (call $f1)
     (throw $e0)
    catch_all
     (call $f2)
     (call $m (i32.const 2))
    end
   catch $e1
    (call $m (i32.const 3))
   end
  catch_all
   (throw $e0)
   try
    (throw $e0)
   catch $e1
    (call $f2)
   end
  end
  try
   try
    try
     (call $m (i32.const 4))
     (throw $e1)
    catch_all
     (throw $e1)
     (throw $e0)
    end
    (call $f1)
   catch $e0
    (throw $e0)
   end
   (call $m (i32.const 5))
  catch_all
   (call $f2)
   try
    (rethrow 1)
   catch $e1
    (call $m (i32.const 6))
   catch $e0
    (br 2)
   end
   (call $m (i32.const 7))
  end
  (call $m (i32.const 8))
  )
  (func $f1
  (call $f2)
  block
   (throw $e0)
  end
  (br 0)
  )
  (func $f2
  (br 0)
  try
   try
    try
     (call $m (i32.const 9))
    end
   catch_all
    block
     (br 3)
    end
    (throw $e0)
   end
   block
    (br 2)
    try
     (call $m (i32.const 10))
     (throw $e1)
    end
   end
  catch $e0
   (br 0)
   (call $m (i32.const 11))
   try
    (throw $e1)
    (rethrow 1)
   catch_all
    block
     (rethrow 1)
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1048676))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e0)
  )
  (func $f1
  try
   try
    (br 2)
   catch $e1
    try
     (br 1)
    delegate 2
   catch $e0
    (rethrow 0)
   end
  delegate 0
  )
  (func $f2
  try
   try
    (throw $e1)
   delegate 0
  delegate 0
  (call $m (i32.const 1))
  try
   try
    try
     (br 3)
    end
   catch_all
    try
     (throw $e1)
    delegate 1
   end
  catch_all
   (call $m (i32.const 2))
   try
    try
     (rethrow 2)
    catch_all
     (call $m (i32.const 3))
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    try
     (call $f1)
    delegate 1
    (call $f2)
   catch $e0
    try
     (throw $e0)
     (throw $e0)
    catch_all
     (call $f1)
     (call $f1)
    end
   catch $e1
    try
     (br 0)
     (call $m (i32.const 1))
    catch $e0
     (call $f2)
     (call $m (i32.const 2))
    catch $e1
     (throw $e1)
    end
   catch_all
    (throw $e1)
   end
   try
    (br 1)
    try
     (call $m (i32.const 3))
    delegate 2
   delegate 1
  delegate 0
  )
  (func $f1
  (call $m (i32.const 4))
  (call $m (i32.const 5))
  )
  (func $f2
  (throw $e0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 119258307))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  try
   (call $f2)
  catch $e1
   (br 1)
   (call $m (i32.const 1))
   (call $m (i32.const 2))
  catch $e0
   (call $f2)
   block
    (call $m (i32.const 3))
    (call $f1)
   end
  catch_all
   (throw $e1)
  end
  )
  (func $f1
  block
   (call $m (i32.const 4))
   try
    try
     (call $m (i32.const 5))
     (br 1)
    catch $e0
     (br 0)
     (call $f2)
    end
   catch $e1
    (call $m (i32.const 6))
   catch_all
    try
     (br 1)
    catch $e0
     (throw $e0)
    catch $e1
     (call $f2)
    end
   end
   (throw $e1)
  end
  (throw $e0)
  )
  (func $f2
  (call $m (i32.const 7))
  (br 0)
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  (br 0)
  )
  (func $f1
  (call $m (i32.const 1))
  try
   (call $f2)
   (call $m (i32.const 2))
   (call $f2)
  catch_all
   (br 1)
   (call $f2)
  end
  )
  (func $f2
  block
   (call $m (i32.const 3))
  end
  try
   try
    (call $m (i32.const 4))
    (throw $e0)
   catch $e1
    (rethrow 0)
   catch_all
    try
     (call $m (i32.const 5))
    catch $e0
     (br 1)
    catch $e1
     (call $m (i32.const 6))
    end
   end
   try
    (call $m (i32.const 7))
   catch $e1
    (call $m (i32.const 8))
   catch_all
    try
     (call $m (i32.const 9))
    delegate 1
   end
   (throw $e0)
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  block
   (call $m (i32.const 2))
  end
  )
  (func $f1
  (call $m (i32.const 3))
  )
  (func $f2
  (call $m (i32.const 4))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 33))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    try
     (call $f1)
    catch_all
     (br 0)
     (throw $e1)
    end
    try
     (call $f2)
    end
   catch_all
    block
     (call $m (i32.const 1))
    end
   end
   (call $f1)
   try
    try
     (call $m (i32.const 2))
    end
    (call $f1)
   catch $e1
    block
     (br 2)
    end
    (call $f2)
   catch $e0
    (br 1)
    (call $m (i32.const 3))
   catch_all
    try
     (throw $e0)
    delegate 2
   end
  catch $e1
   try
    (br 2)
    try
     (call $f2)
     (call $f2)
    catch $e0
     (throw $e0)
     (call $f1)
    end
   catch $e1
    try
     (call $m (i32.const 4))
     (call $m (i32.const 5))
    delegate 2
    try
     (call $m (i32.const 6))
    catch $e0
     (call $m (i32.const 7))
    catch $e1
     (rethrow 0)
     (call $m (i32.const 8))
    end
   catch_all
    block
     (rethrow 1)
     (call $f2)
    end
    block
     (call $m (i32.const 9))
     (throw $e0)
    end
   end
  catch $e0
   block
    (call $m (i32.const 10))
    (rethrow 1)
   end
   try
    (rethrow 1)
    (throw $e0)
   catch $e0
    (throw $e1)
    (call $m (i32.const 11))
   catch_all
    (call $m (i32.const 12))
   end
  end
  (br 0)
  )
  (func $f1
  try
   try
    (throw $e1)
    (br 0)
   catch $e0
    (call $m (i32.const 13))
   end
   try
    (br 2)
    (call $f2)
   delegate 1
  catch_all
   try
    try
     (rethrow 2)
     (br 2)
    end
   catch $e0
    (rethrow 0)
    try
     (call $m (i32.const 14))
    catch $e0
     (throw $e0)
     (call $m (i32.const 15))
    catch $e1
     (br 3)
     (br 3)
    catch_all
     (call $m (i32.const 16))
     (call $m (i32.const 17))
    end
   catch_all
    try
     (br 3)
     (call $f2)
    delegate 1
   end
   block
    (rethrow 1)
    try
     (br 2)
     (br 0)
    end
   end
  end
  (call $m (i32.const 18))
  try
   try
    (throw $e1)
    (throw $e0)
   catch $e0
    (rethrow 0)
   end
   (call $m (i32.const 19))
   try
    (br 1)
   catch $e0
    (br 2)
   end
  delegate 0
  )
  (func $f2
  try
   (br 1)
   block
    (call $m (i32.const 20))
    block
     (call $m (i32.const 21))
     (br 3)
    end
   end
  catch $e0
   try
    block
     (throw $e0)
    end
    (throw $e0)
   end
   try
    block
     (rethrow 2)
     (call $m (i32.const 22))
    end
    try
     (call $m (i32.const 23))
    catch $e0
     (rethrow 2)
    catch_all
     (call $m (i32.const 24))
    end
   catch $e1
    (br 1)
    (call $m (i32.const 25))
   catch_all
    block
     (throw $e1)
    end
   end
  catch_all
   block
    (rethrow 1)
    try
     (call $m (i32.const 26))
    catch_all
     (call $m (i32.const 27))
    end
   end
   try
    block
     (throw $e0)
     (call $m (i32.const 28))
    end
   catch $e0
    try
     (throw $e1)
     (call $m (i32.const 29))
    catch $e1
     (br 3)
     (call $m (i32.const 30))
    end
    try
     (call $m (i32.const 31))
     (rethrow 1)
    delegate 1
   catch $e1
    try
     (throw $e1)
    catch $e1
     (call $m (i32.const 32))
     (rethrow 2)
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 2))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f1)
   block
    (call $f1)
   end
  catch $e0
   (rethrow 0)
  catch_all
   try
    (call $f2)
   end
   try
    (call $m (i32.const 1))
    (call $f1)
   catch_all
    (call $m (i32.const 2))
   end
   (br 1)
  end
  )
  (func $f1
  (throw $e1)
  block
   (call $m (i32.const 3))
   try
    (call $f2)
   catch $e1
    (rethrow 0)
    (call $m (i32.const 4))
   catch $e0
    try
     (throw $e1)
    catch $e0
     (call $m (i32.const 5))
     (call $m (i32.const 6))
    end
    (br 0)
   end
  end
  try
   (call $f2)
   try
    (throw $e0)
   delegate 0
  delegate 0
  )
  (func $f2
  try
   try
    try
     (call $m (i32.const 7))
     (call $m (i32.const 8))
    catch_all
     (call $m (i32.const 9))
    end
    (call $m (i32.const 10))
   end
   (call $m (i32.const 11))
   try
    (br 2)
    try
     (call $m (i32.const 12))
    delegate 1
   catch $e1
    (call $m (i32.const 13))
    (call $m (i32.const 14))
   end
  catch $e0
   (br 1)
   block
    try
     (call $m (i32.const 15))
     (throw $e0)
    delegate 1
    (throw $e1)
   end
  catch_all
   (br 1)
   (call $m (i32.const 16))
   block
    (call $m (i32.const 17))
    try
     (rethrow 2)
    catch_all
     (throw $e1)
    end
   end
  end
  try
   (br 1)
   (call $m (i32.const 18))
  catch $e0
   (rethrow 0)
   try
    (rethrow 1)
    (br 2)
   end
   (br 0)
  catch_all
   (call $m (i32.const 19))
  end
  block
   (br 1)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 208100739))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e0)
  )
  (func $f1
  try
   try
    (br 0)
   catch $e1
    (call $f2)
   catch_all
    try
     (call $m (i32.const 1))
    catch $e0
     (call $f2)
    catch $e1
     (call $m (i32.const 2))
     (call $m (i32.const 3))
    catch_all
     (call $m (i32.const 4))
     (call $m (i32.const 5))
    end
   end
  catch $e0
   (call $f2)
   block
    (call $m (i32.const 6))
    block
     (throw $e0)
     (br 0)
    end
   end
  end
  (call $f2)
  )
  (func $f2
  try
   (call $m (i32.const 7))
   (br 0)
  catch $e1
   (call $m (i32.const 8))
   (call $m (i32.const 9))
  end
  try
   try
    try
     (call $m (i32.const 10))
    delegate 0
   catch_all
    (call $m (i32.const 11))
    try
     (throw $e0)
    delegate 1
   end
  catch $e1
   try
    try
     (br 0)
    catch $e0
     (br 3)
     (call $m (i32.const 12))
    catch_all
     (call $m (i32.const 13))
     (br 3)
    end
   catch $e1
    (throw $e0)
    (call $m (i32.const 14))
   catch $e0
    (call $m (i32.const 15))
   catch_all
    (throw $e0)
    try
     (rethrow 1)
     (br 3)
    delegate 1
   end
  end
  block
   (throw $e0)
   try
    try
     (call $m (i32.const 16))
     (call $m (i32.const 17))
    end
   catch_all
    try
     (call $m (i32.const 18))
    catch $e1
     (call $m (i32.const 19))
     (br 2)
    catch $e0
     (br 3)
     (rethrow 0)
    end
   end
   try
    try
     (call $m (i32.const 20))
     (call $m (i32.const 21))
    delegate 1
   catch $e0
    block
     (rethrow 1)
    end
    try
     (br 3)
     (call $m (i32.const 22))
    catch $e0
     (call $m (i32.const 23))
     (br 1)
    catch $e1
     (call $m (i32.const 24))
    catch_all
     (call $m (i32.const 25))
     (throw $e1)
    end
   catch $e1
    try
     (call $m (i32.const 26))
    catch_all
     (throw $e0)
     (call $m (i32.const 27))
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  (call $m (i32.const 1))
  )
  (func $f1
  (call $m (i32.const 2))
  try
   try
    (call $m (i32.const 3))
   catch $e1
    (call $m (i32.const 4))
    try
     (rethrow 1)
    catch $e1
     (rethrow 0)
    catch $e0
     (call $m (i32.const 5))
     (call $m (i32.const 6))
    catch_all
     (br 3)
    end
   catch $e0
    try
     (call $f2)
    catch $e0
     (call $f2)
     (throw $e1)
    catch_all
     (call $f2)
     (call $m (i32.const 7))
    end
    (throw $e0)
   catch_all
    (call $f2)
   end
   (br 0)
  delegate 0
  try
   try
    block
     (call $f2)
     (br 2)
    end
    try
     (call $m (i32.const 8))
     (throw $e1)
    catch $e0
     (call $m (i32.const 9))
    end
   delegate 0
   (call $m (i32.const 10))
   (throw $e1)
  catch $e1
   (br 1)
   block
    try
     (call $m (i32.const 11))
     (call $m (i32.const 12))
    delegate 2
    (throw $e0)
   end
   block
    try
     (call $m (i32.const 13))
    catch_all
     (call $f2)
    end
   end
  catch $e0
   (throw $e0)
   try
    try
     (call $m (i32.const 14))
     (rethrow 2)
    catch $e1
     (throw $e0)
     (call $f2)
    end
   catch $e1
    try
     (call $m (i32.const 15))
     (call $f2)
    end
   catch_all
    (br 2)
    try
     (call $m (i32.const 16))
     (call $f2)
    catch $e0
     (br 2)
    catch $e1
     (br 0)
     (br 2)
    catch_all
     (call $m (i32.const 17))
     (call $f2)
    end
   end
  catch_all
   try
    try
     (call $f2)
    delegate 2
   delegate 1
  end
  )
  (func $f2
  (call $m (i32.const 18))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $m (i32.const 1))
   try
    (br 0)
   catch $e1
    (br 0)
   end
   (throw $e0)
  catch $e0
   try
    (call $f1)
   catch $e0
    (call $m (i32.const 2))
   catch_all
    try
     (call $m (i32.const 3))
     (throw $e1)
    end
   end
  catch_all
   try
    (rethrow 1)
   catch $e0
    (call $f1)
    (call $m (i32.const 4))
   catch $e1
    (call $m (i32.const 5))
    (call $f1)
   end
  end
  try
   block
    try
     (call $f1)
    delegate 2
    block
     (call $m (i32.const 6))
    end
   end
   (call $f1)
   (call $f2)
  catch $e0
   (call $f2)
  catch_all
   block
    (rethrow 1)
   end
  end
  )
  (func $f1
  try
   block
    block
     (call $m (i32.const 7))
     (br 1)
    end
    try
     (call $f2)
    delegate 0
   end
   (call $m (i32.const 8))
  catch $e0
   (br 1)
   try
    try
     (call $m (i32.const 9))
     (call $f2)
    catch $e0
     (rethrow 2)
    catch $e1
     (call $f2)
     (call $m (i32.const 10))
    catch_all
     (throw $e1)
    end
    (throw $e0)
   delegate 0
   try
    (rethrow 1)
    (call $f2)
   end
  catch $e1
   (call $f2)
   (throw $e0)
   (call $m (i32.const 11))
  catch_all
   try
    (call $f2)
    block
     (call $m (i32.const 12))
    end
   end
   try
    (call $m (i32.const 13))
    (call $m (i32.const 14))
   catch $e0
    try
     (call $f2)
    catch $e0
     (call $f2)
    catch_all
     (call $m (i32.const 15))
     (br 0)
    end
    (call $m (i32.const 16))
   catch $e1
    (throw $e1)
   end
   (call $f2)
  end
  (br 0)
  )
  (func $f2
  (call $m (i32.const 17))
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 520356109))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    (call $m (i32.const 1))
   catch $e1
    (call $f1)
   catch $e0
    block
     (call $m (i32.const 2))
    end
    try
     (call $f2)
    catch_all
     (call $f1)
    end
   end
  delegate 0
  (throw $e0)
  (call $f2)
  )
  (func $f1
  (throw $e1)
  )
  (func $f2
  try
   try
    block
     (br 2)
     (call $m (i32.const 3))
    end
    (call $m (i32.const 4))
   catch $e1
    try
     (br 3)
     (br 0)
    catch $e0
     (call $m (i32.const 5))
     (call $m (i32.const 6))
    catch $e1
     (br 3)
    catch_all
     (throw $e0)
     (throw $e1)
    end
   catch_all
    (call $m (i32.const 7))
    try
     (call $m (i32.const 8))
     (call $m (i32.const 9))
    delegate 2
   end
   try
    (call $m (i32.const 10))
    try
     (br 3)
    catch $e0
     (call $m (i32.const 11))
     (call $m (i32.const 12))
    catch $e1
     (rethrow 0)
    end
   catch $e0
    (call $m (i32.const 13))
    (call $m (i32.const 14))
   end
   (call $m (i32.const 15))
  delegate 0
  block
   (call $m (i32.const 16))
   try
    try
     (call $m (i32.const 17))
     (call $m (i32.const 18))
    delegate 0
   delegate 1
   try
    try
     (call $m (i32.const 19))
     (call $m (i32.const 20))
    catch $e0
     (call $m (i32.const 21))
    end
    (br 2)
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  )
  (func $f1
  try
   (throw $e1)
   (br 1)
   (call $m (i32.const 1))
  catch $e0
   block
    (call $m (i32.const 2))
   end
   try
    (call $m (i32.const 3))
    (call $m (i32.const 4))
   catch $e0
    (call $f2)
   catch $e1
    (call $f2)
    (throw $e0)
   catch_all
    (call $m (i32.const 5))
   end
  catch $e1
   (throw $e1)
   (throw $e0)
   (br 1)
  end
  (throw $e1)
  try
   (call $m (i32.const 6))
  delegate 0
  )
  (func $f2
  try
   try
    try
     (throw $e0)
     (throw $e1)
    catch $e0
     (call $m (i32.const 7))
    catch_all
     (throw $e1)
    end
    (br 2)
   catch $e0
    try
     (rethrow 1)
     (call $m (i32.const 8))
    delegate 0
   catch $e1
    try
     (br 3)
     (throw $e0)
    delegate 1
    try
     (br 1)
    catch $e1
     (call $m (i32.const 9))
     (br 0)
    catch $e0
     (br 3)
     (throw $e1)
    catch_all
     (rethrow 1)
     (call $m (i32.const 10))
    end
   catch_all
    (br 1)
   end
   try
    (call $m (i32.const 11))
    block
     (call $m (i32.const 12))
    end
   end
   try
    block
     (call $m (i32.const 13))
     (throw $e1)
    end
   delegate 1
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    try
     (call $m (i32.const 1))
     (call $f2)
    catch $e0
     (call $m (i32.const 2))
    catch_all
     (throw $e0)
    end
   delegate 0
  delegate 0
  try
   (call $m (i32.const 3))
   try
    (throw $e0)
    (call $m (i32.const 4))
   delegate 0
   (call $f2)
  delegate 0
  )
  (func $f1
  (throw $e1)
  (call $f2)
  )
  (func $f2
  try
   block
    try
     (throw $e0)
    catch $e0
     (throw $e0)
    catch_all
     (rethrow 0)
     (call $m (i32.const 5))
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (br 0)
   try
    try
     (call $m (i32.const 1))
    catch $e1
     (call $f2)
     (call $m (i32.const 2))
    end
   catch $e1
    (br 1)
   catch_all
    (call $f2)
    (call $m (i32.const 3))
   end
   (call $m (i32.const 4))
  delegate 0
  (call $f1)
  )
  (func $f1
  (br 0)
  try
   block
    (br 1)
   end
   block
    (call $f2)
   end
  delegate 0
  (call $m (i32.const 5))
  )
  (func $f2
  try
   try
    (throw $e1)
    (call $m (i32.const 6))
   catch $e1
    try
     (rethrow 1)
     (br 1)
    catch_all
     (throw $e0)
    end
    (rethrow 0)
   catch $e0
    (call $m (i32.const 7))
   catch_all
    try
     (call $m (i32.const 8))
    catch $e0
     (call $m (i32.const 9))
     (call $m (i32.const 10))
    catch $e1
     (call $m (i32.const 11))
     (call $m (i32.const 12))
    catch_all
     (throw $e0)
     (throw $e0)
    end
    (br 2)
   end
   try
    try
     (call $m (i32.const 13))
     (call $m (i32.const 14))
    catch $e0
     (throw $e0)
     (rethrow 0)
    catch $e1
     (br 1)
     (br 0)
    catch_all
     (br 3)
     (rethrow 0)
    end
   catch $e1
    (call $m (i32.const 15))
   catch $e0
    try
     (call $m (i32.const 16))
    end
   catch_all
    (call $m (i32.const 17))
   end
   try
    (call $m (i32.const 18))
   delegate 1
  catch $e0
   (throw $e1)
   try
    try
     (call $m (i32.const 19))
     (br 1)
    catch $e1
     (br 1)
     (call $m (i32.const 20))
    end
   delegate 0
  catch $e1
   try
    (throw $e0)
    (rethrow 1)
   catch $e1
    try
     (call $m (i32.const 21))
     (rethrow 2)
    catch_all
     (call $m (i32.const 22))
     (call $m (i32.const 23))
    end
   end
   (call $m (i32.const 24))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   block
    try
     (call $m (i32.const 1))
    catch_all
     (call $m (i32.const 2))
    end
    (call $m (i32.const 3))
   end
   (throw $e0)
   (call $m (i32.const 4))
  catch $e0
   try
    try
     (throw $e1)
    catch $e1
     (call $f1)
     (throw $e0)
    end
   delegate 0
   (rethrow 0)
   (call $m (i32.const 5))
  catch_all
   try
    (call $f2)
   catch_all
    (call $f2)
    (call $m (i32.const 6))
   end
   (call $m (i32.const 7))
  end
  )
  (func $f1
  try
   (br 0)
   (call $f2)
  catch_all
   (rethrow 0)
   (br 0)
   (call $f2)
  end
  )
  (func $f2
  try
   (call $m (i32.const 8))
  catch $e1
   try
    block
     (br 1)
     (rethrow 2)
    end
   delegate 1
   (throw $e0)
  end
  try
   (throw $e0)
  catch $e0
   try
    (br 2)
    try
     (throw $e0)
     (call $m (i32.const 9))
    catch $e0
     (throw $e1)
    catch_all
     (call $m (i32.const 10))
     (br 3)
    end
   delegate 1
  catch $e1
   (rethrow 0)
   (br 1)
  catch_all
   try
    (rethrow 1)
    try
     (call $m (i32.const 11))
     (throw $e0)
    end
   end
   (br 1)
   (throw $e0)
  end
  try
   block
    (call $m (i32.const 12))
    (br 1)
   end
  catch $e1
   try
    (call $m (i32.const 13))
   delegate 1
   (rethrow 0)
   (call $m (i32.const 14))
  catch_all
   (call $m (i32.const 15))
   (call $m (i32.const 16))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  try
   try
    (br 0)
   catch $e0
    (call $f1)
    (call $f2)
   catch $e1
    (call $m (i32.const 2))
    try
     (call $m (i32.const 3))
    catch $e0
     (call $m (i32.const 4))
    catch $e1
     (call $m (i32.const 5))
    catch_all
     (br 1)
     (call $m (i32.const 6))
    end
   end
   (br 1)
  catch $e0
   (rethrow 0)
  catch $e1
   try
    (throw $e1)
    try
     (rethrow 2)
    catch $e1
     (rethrow 2)
     (rethrow 0)
    catch_all
     (call $f2)
     (call $f2)
    end
   catch $e1
    (call $m (i32.const 7))
    block
     (br 0)
    end
   catch_all
    (throw $e1)
   end
   (rethrow 0)
   try
    try
     (call $f2)
    delegate 1
   end
  end
  )
  (func $f1
  try
   try
    try
     (throw $e0)
     (throw $e1)
    end
   end
   try
    (call $f2)
    (call $f2)
   catch_all
    (call $m (i32.const 8))
    (call $f2)
   end
   try
    (call $m (i32.const 9))
   catch $e0
    (br 1)
    (rethrow 0)
   catch $e1
    try
     (call $m (i32.const 10))
    delegate 1
   catch_all
    (call $m (i32.const 11))
   end
  catch $e0
   try
    (call $f2)
    try
     (throw $e1)
    catch_all
     (rethrow 0)
     (call $f2)
    end
   catch $e1
    (throw $e1)
    (rethrow 0)
   catch $e0
    (rethrow 0)
    try
     (call $m (i32.const 12))
    catch $e1
     (rethrow 1)
    catch_all
     (call $m (i32.const 13))
    end
   end
   (rethrow 0)
  catch $e1
   try
    try
     (rethrow 2)
    delegate 1
    (call $m (i32.const 14))
   catch $e0
    (rethrow 0)
    block
     (call $m (i32.const 15))
    end
   catch $e1
    try
     (br 2)
    catch $e1
     (rethrow 2)
     (rethrow 0)
    end
    try
     (call $f2)
    delegate 2
   catch_all
    (call $m (i32.const 16))
   end
   (call $m (i32.const 17))
  catch_all
   (rethrow 0)
   (call $m (i32.const 18))
  end
  (call $m (i32.const 19))
  (br 0)
  )
  (func $f2
  (call $m (i32.const 20))
  (throw $e0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  )
  (func $f1
  (call $m (i32.const 1))
  (call $f2)
  (br 0)
  )
  (func $f2
  (throw $e0)
  (call $m (i32.const 2))
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  )
  (func $f1
  (call $m (i32.const 1))
  )
  (func $f2
  try
   block
    (br 1)
   end
   (call $m (i32.const 2))
  end
  (call $m (i32.const 3))
  try
   (call $m (i32.const 4))
  catch $e0
   try
    (call $m (i32.const 5))
    (call $m (i32.const 6))
   end
  catch $e1
   (rethrow 0)
   (rethrow 0)
   (throw $e1)
  catch_all
   block
    (throw $e1)
    (call $m (i32.const 7))
   end
   try
    try
     (br 0)
    catch_all
     (call $m (i32.const 8))
    end
    (call $m (i32.const 9))
   end
   try
    try
     (throw $e0)
    catch $e0
     (br 3)
     (rethrow 2)
    catch $e1
     (br 1)
     (call $m (i32.const 10))
    catch_all
     (rethrow 0)
    end
    try
     (br 1)
    catch $e0
     (br 2)
     (rethrow 2)
    catch $e1
     (call $m (i32.const 11))
     (call $m (i32.const 12))
    catch_all
     (call $m (i32.const 13))
    end
   catch $e1
    (call $m (i32.const 14))
   catch $e0
    (call $m (i32.const 15))
    (br 2)
   catch_all
    (throw $e1)
    (throw $e0)
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  try
   block
    (br 0)
    try
     (call $f2)
    catch $e0
     (rethrow 0)
    catch $e1
     (call $f1)
     (call $f2)
    end
   end
   (throw $e1)
   try
    (throw $e1)
    try
     (call $m (i32.const 2))
     (call $f1)
    catch $e1
     (br 3)
     (rethrow 0)
    catch_all
     (call $m (i32.const 3))
     (call $m (i32.const 4))
    end
   end
  catch $e1
   try
    (call $m (i32.const 5))
    (call $f1)
   delegate 0
   (rethrow 0)
   (br 1)
  catch $e0
   block
    (call $f1)
    (br 1)
   end
   (call $m (i32.const 6))
   try
    block
     (rethrow 2)
     (rethrow 2)
    end
    try
     (call $m (i32.const 7))
     (throw $e1)
    catch_all
     (throw $e0)
    end
   catch $e1
    (call $m (i32.const 8))
    (call $m (i32.const 9))
   catch_all
    (rethrow 0)
    try
     (throw $e1)
    catch_all
     (rethrow 0)
     (call $f1)
    end
   end
  end
  try
   try
    (call $f2)
    try
     (call $f2)
    end
   catch $e1
    (call $m (i32.const 10))
    (call $m (i32.const 11))
   catch_all
    block
     (throw $e0)
    end
    (br 0)
   end
   try
    try
     (call $m (i32.const 12))
    catch_all
     (call $m (i32.const 13))
    end
    try
     (call $f2)
    catch $e1
     (br 0)
     (call $m (i32.const 14))
    end
   delegate 0
   (throw $e0)
  end
  )
  (func $f1
  (call $m (i32.const 15))
  )
  (func $f2
  try
   (throw $e1)
  catch $e1
   try
    try
     (call $m (i32.const 16))
     (call $m (i32.const 17))
    catch $e0
     (throw $e1)
     (call $m (i32.const 18))
    end
    block
     (br 0)
    end
   end
  catch_all
   (call $m (i32.const 19))
   (br 1)
   (throw $e1)
  end
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  (br 0)
  )
  (func $f1
  try
   (call $f2)
   (call $m (i32.const 1))
   try
    try
     (call $m (i32.const 2))
     (call $f2)
    catch $e1
     (rethrow 0)
     (throw $e1)
    catch_all
     (call $f2)
     (rethrow 0)
    end
   catch_all
    (br 2)
   end
  catch $e1
   try
    try
     (call $m (i32.const 3))
     (throw $e0)
    catch $e0
     (throw $e1)
     (call $f2)
    catch $e1
     (call $m (i32.const 4))
     (call $m (i32.const 5))
    end
    try
     (call $f2)
     (call $m (i32.const 6))
    delegate 1
   catch $e0
    (throw $e0)
    (call $f2)
   catch $e1
    try
     (call $m (i32.const 7))
    delegate 2
    (call $m (i32.const 8))
   catch_all
    try
     (rethrow 1)
    catch $e0
     (br 2)
     (call $m (i32.const 9))
    catch $e1
     (rethrow 2)
    end
   end
   block
    try
     (call $m (i32.const 10))
     (call $f2)
    delegate 1
    (call $m (i32.const 11))
   end
   (rethrow 0)
  catch_all
   (call $m (i32.const 12))
   (call $f2)
  end
  (throw $e1)
  (call $m (i32.const 13))
  )
  (func $f2
  try
   (throw $e0)
   (call $m (i32.const 14))
   try
    try
     (throw $e1)
    end
    (call $m (i32.const 15))
   end
  end
  try
   (throw $e1)
   try
    try
     (call $m (i32.const 16))
     (br 1)
    catch $e0
     (throw $e0)
     (throw $e1)
    catch $e1
     (call $m (i32.const 17))
     (throw $e0)
    catch_all
     (br 1)
    end
    (throw $e0)
   catch $e0
    block
     (br 2)
     (throw $e0)
    end
    try
     (br 1)
     (rethrow 1)
    catch $e0
     (rethrow 0)
    catch $e1
     (throw $e1)
    catch_all
     (br 0)
     (call $m (i32.const 18))
    end
   catch $e1
    try
     (br 1)
     (rethrow 1)
    catch $e0
     (throw $e0)
     (br 2)
    catch $e1
     (call $m (i32.const 19))
    catch_all
     (throw $e0)
     (br 3)
    end
   catch_all
    block
     (call $m (i32.const 20))
    end
    try
     (br 3)
    end
   end
   try
    (throw $e1)
    try
     (call $m (i32.const 21))
     (call $m (i32.const 22))
    catch $e1
     (br 2)
     (br 2)
    catch_all
     (call $m (i32.const 23))
    end
   end
  catch $e0
   try
    try
     (throw $e1)
     (rethrow 2)
    delegate 0
    try
     (br 2)
    delegate 2
   catch $e0
    (br 0)
   catch_all
    (call $m (i32.const 24))
    (throw $e0)
   end
  catch_all
   (call $m (i32.const 25))
   try
    (call $m (i32.const 26))
    try
     (call $m (i32.const 27))
    catch $e0
     (rethrow 0)
     (call $m (i32.const 28))
    end
   end
   try
    (br 1)
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e0)
  )
  (func $f1
  (call $f2)
  (br 0)
  )
  (func $f2
  try
   try
    try
     (br 2)
    catch $e1
     (br 3)
     (rethrow 0)
    catch_all
     (call $m (i32.const 1))
    end
   catch_all
    (call $m (i32.const 2))
   end
   try
    try
     (br 3)
    catch $e1
     (throw $e1)
     (br 3)
    catch $e0
     (throw $e1)
     (call $m (i32.const 3))
    catch_all
     (throw $e0)
     (rethrow 0)
    end
    try
     (br 0)
     (call $m (i32.const 4))
    end
   catch $e1
    try
     (throw $e0)
    catch $e0
     (br 2)
    end
    block
     (call $m (i32.const 5))
     (br 0)
    end
   end
  catch $e1
   (rethrow 0)
  catch $e0
   (call $m (i32.const 6))
  catch_all
   (call $m (i32.const 7))
   (call $m (i32.const 8))
  end
  (call $m (i32.const 9))
  (call $m (i32.const 10))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  )
  (func $f1
  (call $m (i32.const 1))
  )
  (func $f2
  (call $m (i32.const 2))
  try
   try
    block
     (br 1)
    end
   delegate 0
   (br 0)
   try
    (call $m (i32.const 3))
    (call $m (i32.const 4))
   catch $e0
    (rethrow 0)
    (rethrow 0)
   catch $e1
    try
     (br 1)
    catch $e1
     (rethrow 0)
    catch $e0
     (throw $e0)
    end
   catch_all
    (throw $e0)
    try
     (call $m (i32.const 5))
     (call $m (i32.const 6))
    end
   end
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  (call $m (i32.const 1))
  try
   try
    (call $f2)
    try
     (throw $e0)
    catch_all
     (call $f2)
    end
   end
   (br 0)
   try
    (call $f2)
   catch $e0
    try
     (call $m (i32.const 2))
    delegate 2
    try
     (br 0)
    catch $e0
     (call $m (i32.const 3))
     (throw $e0)
    catch $e1
     (br 2)
     (call $f2)
    catch_all
     (call $m (i32.const 4))
     (rethrow 1)
    end
   catch_all
    try
     (call $m (i32.const 5))
     (br 2)
    catch $e0
     (call $m (i32.const 6))
     (call $m (i32.const 7))
    catch_all
     (rethrow 0)
    end
    (rethrow 0)
   end
  catch $e0
   (call $f1)
   (br 1)
   try
    try
     (call $f2)
    catch $e1
     (call $f1)
    end
    (br 0)
   catch $e1
    (call $f1)
   catch $e0
    try
     (call $f1)
    catch $e1
     (call $f1)
     (throw $e1)
    catch $e0
     (call $m (i32.const 8))
    catch_all
     (call $m (i32.const 9))
     (call $f2)
    end
   end
  catch $e1
   (call $m (i32.const 10))
   block
    (call $m (i32.const 11))
    (call $f2)
   end
  end
  )
  (func $f1
  (call $f2)
  (call $m (i32.const 12))
  )
  (func $f2
  try
   (call $m (i32.const 13))
   try
    try
     (br 1)
     (call $m (i32.const 14))
    delegate 2
   delegate 0
  delegate 0
  (call $m (i32.const 15))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const -916591133))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (br 1)
  delegate 0
  )
  (func $f1
  (throw $e0)
  block
   (call $f2)
   block
    try
     (throw $e0)
    catch $e0
     (throw $e0)
    catch_all
     (call $m (i32.const 1))
    end
   end
  end
  (br 0)
  )
  (func $f2
  try
   (br 1)
   (throw $e1)
  catch $e0
   (throw $e0)
   (br 1)
   try
    (call $m (i32.const 2))
   delegate 0
  catch $e1
   try
    (call $m (i32.const 3))
   catch $e0
    try
     (call $m (i32.const 4))
    catch_all
     (br 2)
     (throw $e1)
    end
   catch $e1
    (br 2)
   end
   (call $m (i32.const 5))
   (rethrow 0)
  end
  try
   try
    (throw $e0)
    try
     (call $m (i32.const 6))
    delegate 2
   delegate 1
   block
    try
     (throw $e1)
    delegate 0
    (br 1)
   end
  catch_all
   try
    try
     (rethrow 2)
     (throw $e1)
    end
    try
     (call $m (i32.const 7))
    delegate 0
   delegate 0
   (call $m (i32.const 8))
  end
  try
   (br 1)
  catch $e0
   (br 1)
   try
    (throw $e1)
    try
     (call $m (i32.const 9))
     (call $m (i32.const 10))
    catch $e0
     (br 3)
    catch_all
     (call $m (i32.const 11))
     (rethrow 0)
    end
   end
  catch $e1
   (call $m (i32.const 12))
   (br 0)
  catch_all
   try
    try
     (throw $e1)
     (call $m (i32.const 13))
    catch_all
     (call $m (i32.const 14))
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e0)
  )
  (func $f1
  try
   try
    (call $m (i32.const 1))
    try
     (throw $e0)
     (call $f2)
    catch_all
     (rethrow 0)
     (rethrow 0)
    end
   catch $e0
    try
     (call $m (i32.const 2))
     (call $f2)
    catch $e0
     (call $f2)
    catch $e1
     (call $f2)
     (br 3)
    end
    try
     (call $f2)
     (call $m (i32.const 3))
    catch $e1
     (call $m (i32.const 4))
     (call $m (i32.const 5))
    catch_all
     (call $m (i32.const 6))
     (rethrow 1)
    end
   end
  catch $e1
   (call $f2)
   (call $f2)
   (throw $e1)
  end
  )
  (func $f2
  (throw $e0)
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e0)
  (call $m (i32.const 1))
  try
   try
    (throw $e1)
    (throw $e0)
   catch $e0
    try
     (rethrow 1)
     (call $m (i32.const 2))
    delegate 1
    (call $f1)
   catch_all
    (br 1)
    (call $f2)
   end
   (call $f1)
   try
    (br 2)
    block
     (throw $e0)
     (throw $e0)
    end
   catch $e1
    try
     (call $f2)
     (call $f1)
    end
    block
     (rethrow 1)
     (throw $e1)
    end
   catch_all
    (call $m (i32.const 3))
    block
     (call $m (i32.const 4))
    end
   end
  catch $e0
   try
    (br 2)
   catch $e0
    try
     (br 1)
     (br 1)
    delegate 0
    (rethrow 1)
   end
  catch $e1
   try
    (rethrow 1)
   delegate 0
  catch_all
   try
    (call $m (i32.const 5))
   delegate 0
  end
  )
  (func $f1
  (call $m (i32.const 6))
  )
  (func $f2
  try
   (throw $e1)
   (call $m (i32.const 7))
  catch $e1
   (rethrow 0)
  catch $e0
   block
    (br 2)
    (br 0)
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  (call $m (i32.const 1))
  )
  (func $f1
  (call $f2)
  try
   try
    (br 0)
    try
     (throw $e1)
     (call $m (i32.const 2))
    delegate 1
   catch $e0
    (throw $e0)
    (rethrow 0)
   catch $e1
    (call $m (i32.const 3))
   catch_all
    try
     (call $m (i32.const 4))
    end
   end
  catch $e1
   try
    try
     (call $m (i32.const 5))
    catch_all
     (call $m (i32.const 6))
     (throw $e0)
    end
    try
     (call $m (i32.const 7))
    catch $e0
     (call $f2)
     (call $m (i32.const 8))
    catch $e1
     (rethrow 2)
     (call $f2)
    catch_all
     (rethrow 2)
    end
   catch $e1
    try
     (call $m (i32.const 9))
    end
    try
     (br 3)
    catch $e1
     (br 3)
    end
   catch_all
    (call $m (i32.const 10))
   end
   (call $f2)
   (call $m (i32.const 11))
  catch $e0
   (call $f2)
  catch_all
   (call $m (i32.const 12))
   try
    try
     (rethrow 2)
    catch $e0
     (br 0)
     (call $m (i32.const 13))
    end
    try
     (call $f2)
    end
   catch $e1
    (call $f2)
   end
   (call $m (i32.const 14))
  end
  )
  (func $f2
  (call $m (i32.const 15))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 466))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  block
   try
    (call $f1)
   catch_all
    (call $m (i32.const 1))
   end
   try
    try
     (call $m (i32.const 2))
    catch $e0
     (rethrow 0)
     (call $m (i32.const 3))
    end
   delegate 0
   (call $m (i32.const 4))
  end
  (call $f1)
  )
  (func $f1
  (call $f2)
  (br 0)
  (call $f2)
  )
  (func $f2
  block
   block
    try
     (call $m (i32.const 5))
     (throw $e1)
    delegate 2
    try
     (call $m (i32.const 6))
    catch_all
     (br 3)
    end
   end
   try
    (call $m (i32.const 7))
   catch_all
    block
     (br 0)
    end
   end
   try
    (call $m (i32.const 8))
    block
     (call $m (i32.const 9))
    end
   catch_all
    (rethrow 0)
    try
     (rethrow 1)
    delegate 1
   end
  end
  (call $m (i32.const 10))
  try
   try
    try
     (br 2)
    catch $e1
     (call $m (i32.const 11))
     (call $m (i32.const 12))
    catch_all
     (throw $e0)
     (throw $e0)
    end
   catch $e0
    try
     (rethrow 1)
     (call $m (i32.const 13))
    delegate 1
   end
   try
    (br 1)
    try
     (call $m (i32.const 14))
    end
   delegate 1
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  )
  (func $f1
  (throw $e0)
  try
   (call $m (i32.const 2))
   (throw $e0)
  catch $e0
   (call $f2)
  catch $e1
   try
    (call $m (i32.const 3))
    try
     (call $m (i32.const 4))
    catch $e0
     (call $f2)
     (br 0)
    catch_all
     (call $m (i32.const 5))
     (br 0)
    end
   catch $e1
    (call $m (i32.const 6))
    (call $f2)
   catch $e0
    try
     (br 1)
     (throw $e0)
    catch_all
     (call $m (i32.const 7))
     (call $m (i32.const 8))
    end
    try
     (br 2)
    catch $e1
     (br 0)
     (call $f2)
    end
   end
   (call $m (i32.const 9))
  end
  try
   try
    (call $m (i32.const 10))
    (call $m (i32.const 11))
   end
   try
    (throw $e1)
    (throw $e1)
   delegate 0
  delegate 0
  )
  (func $f2
  (call $m (i32.const 12))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e0)
  (call $f1)
  (call $m (i32.const 1))
  )
  (func $f1
  block
   (call $f2)
   (call $f2)
   try
    try
     (call $f2)
    delegate 2
   catch $e1
    try
     (call $m (i32.const 2))
     (rethrow 1)
    catch_all
     (br 2)
     (rethrow 0)
    end
    try
     (br 3)
     (throw $e1)
    delegate 2
   catch_all
    block
     (call $f2)
    end
   end
  end
  try
   (call $f2)
   (throw $e1)
   (call $f2)
  delegate 0
  )
  (func $f2
  block
   try
    (br 1)
    try
     (call $m (i32.const 3))
     (call $m (i32.const 4))
    catch $e1
     (throw $e1)
    catch $e0
     (br 0)
     (call $m (i32.const 5))
    end
   catch $e1
    try
     (rethrow 1)
     (rethrow 1)
    delegate 2
    (br 2)
   catch $e0
    try
     (throw $e0)
    end
   end
   (throw $e0)
  end
  block
   (throw $e1)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  (br 0)
  try
   (call $m (i32.const 2))
   (call $m (i32.const 3))
  catch $e1
   (throw $e1)
   try
    (call $m (i32.const 4))
    (call $m (i32.const 5))
   delegate 0
  catch $e0
   (call $m (i32.const 6))
   (call $m (i32.const 7))
   try
    (call $m (i32.const 8))
    (call $f2)
   catch $e0
    block
     (call $m (i32.const 9))
     (call $f1)
    end
    (call $m (i32.const 10))
   catch $e1
    block
     (call $f1)
     (br 3)
    end
   catch_all
    (call $f1)
    (call $f1)
   end
  end
  )
  (func $f1
  try
   (call $f2)
  catch $e1
   (call $m (i32.const 11))
   (rethrow 0)
   (throw $e0)
  catch $e0
   (br 1)
   (call $f2)
  end
  try
   try
    block
     (call $f2)
     (br 0)
    end
    try
     (br 2)
    catch $e0
     (call $m (i32.const 12))
    catch $e1
     (throw $e0)
    end
   catch $e0
    (rethrow 0)
    try
     (rethrow 1)
    delegate 2
   catch $e1
    (call $m (i32.const 13))
    try
     (call $f2)
     (throw $e0)
    catch $e0
     (call $f2)
    catch $e1
     (call $f2)
     (call $m (i32.const 14))
    end
   catch_all
    (throw $e1)
    (br 0)
   end
   (throw $e1)
   block
    (br 1)
    block
     (br 3)
     (call $m (i32.const 15))
    end
   end
  delegate 0
  (br 0)
  )
  (func $f2
  try
   try
    (br 0)
    (throw $e0)
   catch $e0
    try
     (call $m (i32.const 16))
    delegate 2
    try
     (rethrow 1)
     (br 3)
    catch_all
     (call $m (i32.const 17))
     (br 0)
    end
   catch $e1
    try
     (rethrow 1)
     (throw $e1)
    catch $e1
     (call $m (i32.const 18))
    catch_all
     (call $m (i32.const 19))
    end
   catch_all
    (throw $e0)
    (br 0)
   end
   try
    try
     (br 0)
     (br 2)
    catch_all
     (call $m (i32.const 20))
    end
    try
     (br 2)
     (call $m (i32.const 21))
    catch $e0
     (throw $e1)
    catch $e1
     (call $m (i32.const 22))
    end
   delegate 1
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  )
  (func $f1
  try
   (call $f2)
   (call $f2)
   (call $m (i32.const 1))
  catch $e1
   (br 0)
   try
    try
     (call $m (i32.const 2))
    catch $e1
     (call $f2)
     (throw $e1)
    catch $e0
     (br 0)
     (call $m (i32.const 3))
    end
    (call $f2)
   delegate 1
  end
  (throw $e1)
  (call $m (i32.const 4))
  )
  (func $f2
  try
   try
    try
     (call $m (i32.const 5))
    catch $e1
     (call $m (i32.const 6))
     (rethrow 0)
    catch $e0
     (throw $e0)
    catch_all
     (call $m (i32.const 7))
     (throw $e1)
    end
   catch_all
    (br 0)
    (br 0)
   end
   try
    try
     (br 2)
    catch_all
     (rethrow 0)
    end
   catch $e1
    try
     (throw $e1)
     (br 3)
    catch $e1
     (rethrow 1)
    end
   end
  catch $e0
   (br 1)
   (call $m (i32.const 8))
  catch_all
   try
    block
     (br 3)
    end
   delegate 0
   (call $m (i32.const 9))
  end
  try
   try
    (call $m (i32.const 10))
   end
  catch $e1
   try
    block
     (call $m (i32.const 11))
    end
    try
     (call $m (i32.const 12))
     (rethrow 2)
    catch $e0
     (br 0)
     (throw $e1)
    end
   catch_all
    try
     (rethrow 2)
    catch $e0
     (call $m (i32.const 13))
    catch_all
     (call $m (i32.const 14))
     (call $m (i32.const 15))
    end
   end
   try
    try
     (throw $e1)
    catch $e0
     (call $m (i32.const 16))
    catch $e1
     (call $m (i32.const 17))
     (call $m (i32.const 18))
    catch_all
     (call $m (i32.const 19))
     (call $m (i32.const 20))
    end
   delegate 0
   (call $m (i32.const 21))
  catch $e0
   (rethrow 0)
  end
  try
   try
    try
     (throw $e0)
     (br 2)
    catch_all
     (call $m (i32.const 22))
     (br 2)
    end
   catch $e1
    try
     (br 1)
    catch $e1
     (call $m (i32.const 23))
    catch_all
     (br 1)
    end
    (rethrow 0)
   end
   try
    block
     (call $m (i32.const 24))
     (br 2)
    end
   delegate 1
  catch $e1
   (rethrow 0)
   try
    (call $m (i32.const 25))
    (call $m (i32.const 26))
   delegate 0
   try
    block
     (rethrow 2)
     (throw $e0)
    end
   catch $e1
    (rethrow 0)
   catch $e0
    (throw $e0)
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e0)
  )
  (func $f1
  try
   (throw $e0)
  catch $e0
   (throw $e1)
   (br 1)
  catch $e1
   block
    block
     (call $m (i32.const 1))
     (call $m (i32.const 2))
    end
   end
   (throw $e1)
   try
    try
     (br 2)
    catch $e0
     (call $m (i32.const 3))
    end
   delegate 0
  catch_all
   (call $f2)
  end
  try
   (call $f2)
   (throw $e0)
   try
    try
     (call $m (i32.const 4))
    catch $e1
     (call $m (i32.const 5))
    end
   catch_all
    try
     (call $f2)
    catch $e1
     (call $f2)
    catch $e0
     (rethrow 0)
     (call $f2)
    catch_all
     (call $m (i32.const 6))
     (rethrow 0)
    end
   end
  delegate 0
  (call $f2)
  )
  (func $f2
  (call $m (i32.const 7))
  try
   try
    try
     (call $m (i32.const 8))
     (call $m (i32.const 9))
    delegate 2
   catch_all
    (call $m (i32.const 10))
   end
   try
    block
     (call $m (i32.const 11))
    end
    (call $m (i32.const 12))
   catch $e1
    (call $m (i32.const 13))
    try
     (call $m (i32.const 14))
     (throw $e1)
    catch $e0
     (call $m (i32.const 15))
     (throw $e0)
    catch $e1
     (call $m (i32.const 16))
     (br 0)
    end
   catch $e0
    block
     (call $m (i32.const 17))
     (call $m (i32.const 18))
    end
    try
     (throw $e1)
    end
   end
   try
    (br 2)
    try
     (br 2)
    end
   catch $e0
    (call $m (i32.const 19))
   catch_all
    (throw $e1)
   end
  catch $e0
   (br 0)
   try
    try
     (throw $e0)
    catch_all
     (call $m (i32.const 20))
    end
    try
     (call $m (i32.const 21))
     (rethrow 2)
    end
   catch $e0
    block
     (rethrow 1)
     (br 1)
    end
    block
     (call $m (i32.const 22))
     (call $m (i32.const 23))
    end
   end
   try
    try
     (br 1)
     (throw $e1)
    delegate 1
    block
     (throw $e0)
    end
   catch $e0
    try
     (throw $e1)
    end
   catch $e1
    try
     (br 0)
    delegate 1
   end
  catch_all
   try
    (throw $e0)
   end
   (call $m (i32.const 24))
  end
  (call $m (i32.const 25))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $m (i32.const 1))
   try
    (call $f1)
   catch $e0
    block
     (call $f1)
    end
    block
     (throw $e0)
    end
   catch $e1
    try
     (call $m (i32.const 2))
     (call $f1)
    end
    (throw $e1)
   end
   try
    try
     (throw $e1)
     (throw $e1)
    catch $e0
     (call $f2)
     (br 1)
    end
   catch $e1
    (call $m (i32.const 3))
    block
     (call $m (i32.const 4))
     (call $f2)
    end
   catch $e0
    try
     (call $m (i32.const 5))
     (br 3)
    end
    block
     (br 2)
    end
   end
  catch $e1
   (br 1)
  catch $e0
   (br 1)
   (call $f2)
  end
  )
  (func $f1
  try
   (call $m (i32.const 6))
   (call $f2)
   (call $f2)
  catch $e0
   (throw $e1)
   try
    (call $f2)
   catch $e1
    (call $m (i32.const 7))
   end
   (call $m (i32.const 8))
  catch $e1
   (call $f2)
  catch_all
   try
    try
     (call $m (i32.const 9))
    catch_all
     (call $m (i32.const 10))
    end
    (throw $e0)
   catch_all
    (call $f2)
    (call $f2)
   end
   (call $f2)
   (br 0)
  end
  (call $f2)
  )
  (func $f2
  try
   (call $m (i32.const 11))
  catch $e0
   (rethrow 0)
   try
    (call $m (i32.const 12))
   delegate 0
   (rethrow 0)
  catch $e1
   try
    (call $m (i32.const 13))
    try
     (call $m (i32.const 14))
    catch $e0
     (br 3)
    catch $e1
     (throw $e0)
    end
   delegate 0
   try
    try
     (br 0)
     (throw $e1)
    delegate 2
   delegate 1
   (call $m (i32.const 15))
  catch_all
   try
    (rethrow 1)
    try
     (call $m (i32.const 16))
    catch $e0
     (br 3)
    end
   catch $e0
    try
     (call $m (i32.const 17))
     (call $m (i32.const 18))
    end
    try
     (throw $e0)
     (call $m (i32.const 19))
    catch_all
     (call $m (i32.const 20))
     (throw $e0)
    end
   catch $e1
    (call $m (i32.const 21))
    try
     (rethrow 1)
     (call $m (i32.const 22))
    catch $e0
     (throw $e0)
     (br 2)
    catch $e1
     (call $m (i32.const 23))
     (br 0)
    catch_all
     (rethrow 2)
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const -1196692060))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    (br 0)
    try
     (br 0)
    catch $e1
     (call $m (i32.const 1))
    catch $e0
     (call $f2)
     (call $m (i32.const 2))
    end
   delegate 0
   try
    (call $f1)
    (br 1)
   delegate 1
   (call $m (i32.const 3))
  end
  )
  (func $f1
  try
   block
    (call $f2)
   end
   try
    (call $m (i32.const 4))
   catch $e0
    (throw $e0)
    try
     (rethrow 1)
     (call $m (i32.const 5))
    catch $e1
     (call $m (i32.const 6))
     (throw $e0)
    catch_all
     (rethrow 0)
    end
   end
  catch $e0
   (call $f2)
   (rethrow 0)
  catch_all
   (br 1)
  end
  (br 0)
  )
  (func $f2
  try
   try
    (br 0)
    (throw $e1)
   catch_all
    (call $m (i32.const 7))
   end
   (br 0)
   try
    try
     (call $m (i32.const 8))
     (call $m (i32.const 9))
    delegate 0
    try
     (br 2)
     (call $m (i32.const 10))
    catch $e0
     (br 0)
     (call $m (i32.const 11))
    catch $e1
     (call $m (i32.const 12))
     (rethrow 0)
    catch_all
     (call $m (i32.const 13))
    end
   catch $e0
    (call $m (i32.const 14))
   catch_all
    try
     (rethrow 1)
    delegate 1
   end
  catch $e0
   try
    try
     (call $m (i32.const 15))
     (br 2)
    delegate 0
    block
     (call $m (i32.const 16))
     (call $m (i32.const 17))
    end
   delegate 0
   (throw $e0)
   (rethrow 0)
  catch $e1
   (throw $e1)
   (throw $e1)
   try
    try
     (throw $e0)
    catch $e1
     (rethrow 2)
    catch_all
     (br 2)
    end
    (throw $e0)
   catch $e1
    (call $m (i32.const 18))
   catch $e0
    (call $m (i32.const 19))
   catch_all
    (throw $e1)
   end
  end
  block
   block
    (throw $e1)
   end
  end
  try
   (throw $e1)
   try
    (call $m (i32.const 20))
   catch $e0
    try
     (br 1)
     (call $m (i32.const 21))
    catch $e0
     (throw $e1)
     (rethrow 0)
    catch $e1
     (call $m (i32.const 22))
    catch_all
     (call $m (i32.const 23))
    end
    (call $m (i32.const 24))
   catch $e1
    try
     (br 2)
     (br 3)
    delegate 0
    try
     (br 0)
    catch $e1
     (call $m (i32.const 25))
     (rethrow 0)
    catch $e0
     (br 1)
     (rethrow 0)
    catch_all
     (rethrow 1)
    end
   end
   (call $m (i32.const 26))
  catch $e0
   (throw $e0)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  try
   try
    try
     (call $f1)
     (call $f2)
    delegate 2
   catch $e0
    (call $m (i32.const 1))
   end
  catch $e1
   try
    try
     (call $m (i32.const 2))
    end
   catch_all
    (call $f2)
    try
     (br 2)
     (call $f1)
    catch $e1
     (throw $e0)
     (rethrow 2)
    catch $e0
     (throw $e0)
     (call $f1)
    catch_all
     (throw $e1)
     (br 3)
    end
   end
  catch $e0
   (call $f1)
  end
  )
  (func $f1
  block
   (call $m (i32.const 3))
  end
  (throw $e0)
  try
   (throw $e0)
  catch $e1
   (call $f2)
  catch $e0
   try
    (throw $e1)
   catch $e0
    try
     (throw $e1)
     (call $m (i32.const 4))
    catch $e1
     (throw $e0)
    catch $e0
     (call $m (i32.const 5))
    catch_all
     (br 3)
    end
    (call $f2)
   end
  catch_all
   try
    (br 1)
   catch_all
    try
     (call $m (i32.const 6))
     (call $m (i32.const 7))
    catch $e0
     (throw $e0)
    catch $e1
     (call $f2)
    end
   end
   (call $m (i32.const 8))
   try
    (call $m (i32.const 9))
   delegate 1
  end
  )
  (func $f2
  try
   try
    block
     (throw $e0)
     (br 3)
    end
   catch_all
    (throw $e0)
    (rethrow 0)
   end
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  block
   (call $f1)
   (br 0)
  end
  )
  (func $f1
  (call $m (i32.const 1))
  (call $m (i32.const 2))
  )
  (func $f2
  (call $m (i32.const 3))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 33))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  )
  (func $f1
  (call $f2)
  (call $m (i32.const 2))
  (call $m (i32.const 3))
  )
  (func $f2
  (call $m (i32.const 4))
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  block
   (call $f2)
   (throw $e0)
  end
  try
   try
    (call $m (i32.const 1))
    try
     (call $m (i32.const 2))
    catch $e1
     (call $m (i32.const 3))
    catch $e0
     (call $m (i32.const 4))
     (call $m (i32.const 5))
    end
   catch $e1
    (rethrow 0)
    (rethrow 0)
   catch $e0
    try
     (call $f1)
    delegate 1
    (call $m (i32.const 6))
   end
   (throw $e0)
  catch $e0
   try
    block
     (call $f1)
    end
    (call $f1)
   delegate 0
   try
    (call $m (i32.const 7))
   catch $e1
    (throw $e1)
   catch $e0
    try
     (call $f1)
     (throw $e0)
    catch $e1
     (br 2)
    catch $e0
     (call $f2)
     (call $f2)
    end
    try
     (throw $e0)
    catch $e0
     (call $m (i32.const 8))
    catch_all
     (call $f1)
     (rethrow 2)
    end
   end
   (rethrow 0)
  catch_all
   (call $m (i32.const 9))
   (call $f2)
   (br 1)
  end
  )
  (func $f1
  block
   block
    try
     (call $f2)
     (call $f2)
    catch $e0
     (call $m (i32.const 10))
     (throw $e0)
    catch_all
     (call $f2)
     (br 3)
    end
    (br 2)
   end
   (throw $e0)
  end
  )
  (func $f2
  try
   try
    (throw $e0)
    (throw $e0)
   end
  catch $e1
   try
    try
     (throw $e0)
     (br 3)
    delegate 1
    try
     (call $m (i32.const 11))
    catch $e1
     (rethrow 2)
    catch_all
     (rethrow 0)
     (call $m (i32.const 12))
    end
   catch $e0
    try
     (rethrow 2)
    catch $e1
     (br 2)
     (call $m (i32.const 13))
    end
   end
   block
    (rethrow 1)
    try
     (throw $e1)
    catch $e1
     (call $m (i32.const 14))
     (throw $e1)
    catch $e0
     (rethrow 0)
    catch_all
     (rethrow 0)
    end
   end
   try
    try
     (rethrow 2)
     (rethrow 2)
    catch_all
     (throw $e1)
    end
    try
     (throw $e0)
     (throw $e0)
    catch $e0
     (rethrow 2)
     (throw $e0)
    catch $e1
     (call $m (i32.const 15))
    catch_all
     (br 0)
     (throw $e1)
    end
   catch $e0
    try
     (rethrow 1)
     (rethrow 1)
    catch $e0
     (br 0)
    catch $e1
     (rethrow 1)
    catch_all
     (br 0)
     (br 0)
    end
    try
     (rethrow 1)
    catch $e1
     (call $m (i32.const 16))
    catch $e0
     (throw $e1)
     (call $m (i32.const 17))
    end
   catch_all
    (rethrow 0)
    try
     (throw $e0)
     (call $m (i32.const 18))
    catch_all
     (call $m (i32.const 19))
     (rethrow 1)
    end
   end
  catch_all
   (throw $e0)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f2)
   (call $f2)
  delegate 0
  try
   try
    (call $f2)
    (call $f1)
   end
  catch $e1
   try
    (call $f2)
   catch $e1
    (call $f1)
   end
  catch $e0
   (call $m (i32.const 1))
   (br 1)
   try
    (call $m (i32.const 2))
    try
     (rethrow 2)
    end
   catch $e1
    (rethrow 1)
    try
     (throw $e1)
     (throw $e1)
    end
   catch $e0
    try
     (call $f1)
    catch $e0
     (call $m (i32.const 3))
    catch $e1
     (call $f1)
    end
   end
  catch_all
   (call $f1)
   (throw $e0)
   try
    (throw $e0)
    try
     (br 1)
     (throw $e0)
    delegate 0
   catch $e0
    (throw $e0)
   catch $e1
    (br 2)
   end
  end
  )
  (func $f1
  (br 0)
  )
  (func $f2
  (call $m (i32.const 4))
  block
   try
    try
     (call $m (i32.const 5))
     (throw $e1)
    catch_all
     (throw $e0)
    end
    try
     (call $m (i32.const 6))
     (br 1)
    catch $e0
     (br 3)
    catch_all
     (call $m (i32.const 7))
     (call $m (i32.const 8))
    end
   delegate 0
   (call $m (i32.const 9))
  end
  (throw $e1)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  try
   (call $f2)
  catch $e0
   try
    try
     (call $f1)
    catch $e1
     (call $m (i32.const 1))
    catch_all
     (br 2)
    end
   delegate 1
   (rethrow 0)
   (rethrow 0)
  catch_all
   try
    (br 2)
    (br 1)
   catch $e1
    block
     (call $m (i32.const 2))
     (call $m (i32.const 3))
    end
   catch $e0
    (call $f1)
    (call $m (i32.const 4))
   catch_all
    try
     (br 1)
    end
   end
   block
    (call $m (i32.const 5))
    try
     (call $f2)
     (call $m (i32.const 6))
    end
   end
   try
    (throw $e1)
    (throw $e0)
   catch $e0
    try
     (call $m (i32.const 7))
    catch $e0
     (rethrow 2)
     (call $f1)
    end
   catch_all
    (call $m (i32.const 8))
    (br 0)
   end
  end
  )
  (func $f1
  (call $m (i32.const 9))
  (call $f2)
  )
  (func $f2
  try
   (call $m (i32.const 10))
  catch $e0
   (call $m (i32.const 11))
  catch $e1
   (rethrow 0)
   (rethrow 0)
  catch_all
   (call $m (i32.const 12))
  end
  (call $m (i32.const 13))
  (call $m (i32.const 14))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  try
   (call $f1)
   (call $m (i32.const 1))
  catch $e0
   try
    try
     (br 0)
    delegate 1
   catch $e1
    (call $m (i32.const 2))
   catch $e0
    try
     (call $m (i32.const 3))
    catch $e1
     (throw $e1)
    catch $e0
     (call $f1)
     (call $f2)
    catch_all
     (call $m (i32.const 4))
    end
   end
   (throw $e0)
   try
    block
     (rethrow 2)
    end
    block
     (throw $e0)
    end
   delegate 0
  end
  (call $f1)
  )
  (func $f1
  try
   (call $f2)
   (call $m (i32.const 5))
  catch_all
   (throw $e1)
   (call $m (i32.const 6))
  end
  try
   (call $m (i32.const 7))
   (call $f2)
  delegate 0
  )
  (func $f2
  (call $m (i32.const 8))
  (call $m (i32.const 9))
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  )
  (func $f1
  block
   (call $f2)
  end
  block
   (call $m (i32.const 1))
  end
  )
  (func $f2
  (call $m (i32.const 2))
  try
   (call $m (i32.const 3))
   block
    (call $m (i32.const 4))
    try
     (call $m (i32.const 5))
    catch_all
     (call $m (i32.const 6))
    end
   end
  catch $e1
   block
    (throw $e1)
    (call $m (i32.const 7))
   end
   block
    block
     (call $m (i32.const 8))
    end
    (call $m (i32.const 9))
   end
  catch $e0
   try
    (throw $e1)
   catch $e0
    block
     (call $m (i32.const 10))
     (call $m (i32.const 11))
    end
   catch $e1
    (throw $e1)
   catch_all
    (throw $e1)
    try
     (throw $e1)
    delegate 2
   end
   block
    (call $m (i32.const 12))
    (call $m (i32.const 13))
   end
  end
  try
   try
    (br 0)
    (call $m (i32.const 14))
   end
   try
    (br 2)
    try
     (br 2)
    delegate 0
   catch $e0
    try
     (br 0)
     (call $m (i32.const 15))
    delegate 1
    (call $m (i32.const 16))
   catch $e1
    try
     (throw $e0)
    catch $e0
     (rethrow 1)
     (throw $e1)
    catch $e1
     (br 2)
    catch_all
     (call $m (i32.const 17))
    end
    (throw $e1)
   end
  catch $e0
   try
    (throw $e0)
    (call $m (i32.const 18))
   end
   (call $m (i32.const 19))
   try
    block
     (rethrow 2)
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 62594))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (br 1)
   try
    (call $m (i32.const 1))
   catch_all
    (br 1)
    (br 0)
   end
   (throw $e0)
  catch_all
   block
    (call $f2)
    (throw $e1)
   end
   (call $f2)
  end
  (call $f1)
  )
  (func $f1
  (call $m (i32.const 2))
  )
  (func $f2
  (call $m (i32.const 3))
  try
   try
    block
     (call $m (i32.const 4))
    end
    try
     (call $m (i32.const 5))
     (call $m (i32.const 6))
    catch $e0
     (br 3)
    catch $e1
     (rethrow 0)
     (call $m (i32.const 7))
    catch_all
     (br 1)
     (call $m (i32.const 8))
    end
   catch $e0
    (call $m (i32.const 9))
   end
  catch $e1
   try
    try
     (rethrow 2)
    delegate 0
    (br 0)
   catch_all
    try
     (br 1)
    end
    try
     (rethrow 1)
     (call $m (i32.const 10))
    catch $e1
     (call $m (i32.const 11))
    catch $e0
     (throw $e1)
     (call $m (i32.const 12))
    catch_all
     (call $m (i32.const 13))
     (br 1)
    end
   end
  catch $e0
   try
    (call $m (i32.const 14))
    try
     (rethrow 2)
    catch $e1
     (throw $e1)
     (br 3)
    catch $e0
     (br 3)
     (br 1)
    catch_all
     (br 0)
     (throw $e0)
    end
   catch $e1
    (call $m (i32.const 15))
   end
   try
    try
     (rethrow 2)
     (br 3)
    end
   catch $e0
    try
     (call $m (i32.const 16))
     (throw $e1)
    end
    try
     (br 2)
    catch_all
     (br 2)
    end
   end
  catch_all
   (call $m (i32.const 17))
   (br 1)
   (call $m (i32.const 18))
  end
  try
   (throw $e0)
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  block
   (br 1)
  end
  )
  (func $f1
  try
   (call $f2)
   (call $f2)
   try
    (call $f2)
   catch $e0
    (call $f2)
    (call $f2)
   catch $e1
    block
     (rethrow 1)
    end
    (br 1)
   catch_all
    block
     (call $m (i32.const 1))
    end
    block
     (call $f2)
     (br 2)
    end
   end
  catch_all
   (rethrow 0)
   try
    (call $f2)
   catch $e1
    (rethrow 0)
   catch $e0
    (br 1)
   end
  end
  try
   try
    try
     (call $m (i32.const 2))
     (call $m (i32.const 3))
    delegate 2
   catch_all
    (rethrow 0)
   end
  delegate 0
  try
   (call $f2)
  delegate 0
  )
  (func $f2
  (throw $e0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    try
     (call $m (i32.const 1))
     (br 0)
    end
    (call $f1)
   end
   block
    try
     (call $f2)
     (call $f2)
    catch $e0
     (call $m (i32.const 2))
    catch $e1
     (call $m (i32.const 3))
     (rethrow 0)
    catch_all
     (call $m (i32.const 4))
    end
   end
  delegate 0
  (call $m (i32.const 5))
  )
  (func $f1
  try
   (call $m (i32.const 6))
   try
    try
     (throw $e1)
     (br 1)
    catch $e0
     (call $m (i32.const 7))
    catch_all
     (br 0)
     (throw $e1)
    end
    (throw $e0)
   delegate 1
  catch $e0
   (call $m (i32.const 8))
   (rethrow 0)
  catch $e1
   (call $m (i32.const 9))
   (rethrow 0)
  catch_all
   try
    try
     (call $m (i32.const 10))
    catch $e1
     (br 2)
    catch $e0
     (call $m (i32.const 11))
    catch_all
     (call $m (i32.const 12))
     (throw $e1)
    end
   catch $e0
    (br 2)
    (call $f2)
   catch $e1
    try
     (call $m (i32.const 13))
     (call $m (i32.const 14))
    catch_all
     (throw $e1)
    end
    (br 1)
   catch_all
    (call $f2)
   end
   (br 1)
  end
  )
  (func $f2
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  )
  (func $f1
  (call $m (i32.const 1))
  try
   (call $m (i32.const 2))
  catch $e1
   (br 1)
   (call $f2)
  catch_all
   try
    (call $f2)
   catch_all
    try
     (call $m (i32.const 3))
    delegate 2
   end
   (call $f2)
   (call $f2)
  end
  (call $m (i32.const 4))
  )
  (func $f2
  try
   (br 1)
  delegate 0
  block
   (call $m (i32.const 5))
  end
  try
   (br 1)
  catch $e0
   try
    try
     (call $m (i32.const 6))
     (throw $e0)
    catch $e0
     (throw $e1)
     (rethrow 2)
    catch $e1
     (throw $e1)
     (call $m (i32.const 7))
    end
    (call $m (i32.const 8))
   catch $e1
    (rethrow 0)
    try
     (call $m (i32.const 9))
    delegate 0
   end
   (call $m (i32.const 10))
   (throw $e0)
  catch $e1
   try
    (throw $e1)
    (br 2)
   catch $e0
    (throw $e1)
    (call $m (i32.const 11))
   catch_all
    (br 0)
   end
   try
    (br 2)
    (br 0)
   catch $e1
    (rethrow 1)
    (br 0)
   end
   (call $m (i32.const 12))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  (call $m (i32.const 2))
  )
  (func $f1
  (br 0)
  )
  (func $f2
  block
   block
    try
     (throw $e0)
    catch $e0
     (throw $e1)
     (call $m (i32.const 3))
    catch $e1
     (rethrow 0)
     (br 2)
    end
    block
     (call $m (i32.const 4))
    end
   end
   try
    block
     (br 3)
    end
   catch $e1
    try
     (br 3)
    catch $e0
     (rethrow 1)
     (rethrow 1)
    catch_all
     (call $m (i32.const 5))
     (call $m (i32.const 6))
    end
    try
     (br 2)
    catch $e0
     (br 0)
     (throw $e0)
    end
   catch $e0
    (call $m (i32.const 7))
    try
     (throw $e1)
    delegate 1
   end
   (br 1)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 33))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  block
   try
    (call $f1)
    block
     (call $f1)
     (call $m (i32.const 1))
    end
   catch_all
    (br 0)
    try
     (throw $e0)
    catch $e0
     (call $f1)
     (call $m (i32.const 2))
    catch $e1
     (call $f1)
     (call $m (i32.const 3))
    catch_all
     (call $m (i32.const 4))
     (call $f1)
    end
   end
   try
    (call $m (i32.const 5))
   end
  end
  )
  (func $f1
  (throw $e0)
  )
  (func $f2
  (call $m (i32.const 6))
  block
   block
    try
     (br 2)
    catch_all
     (rethrow 0)
    end
   end
   try
    try
     (throw $e1)
    end
    block
     (br 1)
    end
   catch $e1
    (call $m (i32.const 7))
   catch $e0
    try
     (rethrow 1)
    catch $e0
     (call $m (i32.const 8))
     (rethrow 0)
    catch $e1
     (rethrow 0)
    catch_all
     (br 2)
     (br 1)
    end
   catch_all
    (call $m (i32.const 9))
    try
     (rethrow 1)
     (rethrow 1)
    delegate 2
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 5))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  try
   try
    try
     (call $m (i32.const 1))
     (call $m (i32.const 2))
    catch $e0
     (throw $e1)
     (call $f1)
    end
   catch $e0
    try
     (throw $e1)
    catch $e1
     (br 0)
    catch $e0
     (call $f2)
     (call $m (i32.const 3))
    catch_all
     (call $f2)
    end
    try
     (throw $e1)
     (call $f1)
    catch_all
     (call $m (i32.const 4))
     (call $f2)
    end
   end
   (br 0)
   (throw $e1)
  catch $e0
   (throw $e1)
  end
  try
   (br 1)
   try
    try
     (call $f1)
     (call $f1)
    catch $e1
     (call $m (i32.const 5))
     (call $m (i32.const 6))
    end
    try
     (call $f2)
     (call $m (i32.const 7))
    catch $e0
     (br 3)
    catch $e1
     (call $m (i32.const 8))
    end
   end
   (call $m (i32.const 9))
  delegate 0
  )
  (func $f1
  (br 0)
  )
  (func $f2
  try
   block
    try
     (call $m (i32.const 10))
     (call $m (i32.const 11))
    catch $e0
     (throw $e0)
     (rethrow 0)
    catch_all
     (br 1)
    end
    try
     (call $m (i32.const 12))
     (br 1)
    delegate 2
   end
   try
    (throw $e1)
   delegate 0
  delegate 0
  try
   try
    try
     (call $m (i32.const 13))
     (call $m (i32.const 14))
    catch $e1
     (call $m (i32.const 15))
     (rethrow 0)
    catch_all
     (rethrow 0)
    end
    try
     (br 2)
    catch $e0
     (br 3)
    catch_all
     (call $m (i32.const 16))
    end
   delegate 0
  catch $e0
   try
    (rethrow 1)
    try
     (rethrow 2)
    end
   catch_all
    try
     (br 3)
     (br 0)
    end
    (call $m (i32.const 17))
   end
   (call $m (i32.const 18))
   (call $m (i32.const 19))
  catch_all
   (call $m (i32.const 20))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (br 0)
   (call $f2)
  catch $e0
   try
    try
     (br 0)
    catch $e1
     (call $f1)
     (throw $e1)
    catch $e0
     (call $f1)
     (call $f2)
    end
    try
     (call $m (i32.const 1))
     (call $f2)
    catch $e1
     (rethrow 2)
     (call $m (i32.const 2))
    catch $e0
     (throw $e1)
    end
   catch $e1
    (call $f1)
    block
     (call $f2)
    end
   catch_all
    (call $f1)
    (call $m (i32.const 3))
   end
   (call $f2)
  catch $e1
   (call $f2)
   (call $f1)
  end
  try
   (throw $e0)
   block
    (call $f1)
   end
  catch $e1
   (br 1)
   (call $m (i32.const 4))
   try
    try
     (rethrow 2)
     (call $f2)
    catch $e0
     (throw $e1)
     (call $m (i32.const 5))
    catch_all
     (throw $e1)
     (call $f1)
    end
   catch $e1
    (br 2)
   catch_all
    (call $f1)
    (br 2)
   end
  catch_all
   (throw $e0)
   (call $m (i32.const 6))
   try
    try
     (br 1)
     (rethrow 2)
    delegate 2
   delegate 1
  end
  (call $f2)
  )
  (func $f1
  try
   (call $m (i32.const 7))
   try
    (call $f2)
   delegate 0
   try
    (call $m (i32.const 8))
   catch $e0
    (rethrow 0)
   end
  catch $e1
   (rethrow 0)
   (call $m (i32.const 9))
  end
  try
   try
    try
     (call $m (i32.const 10))
     (call $f2)
    catch $e0
     (call $f2)
     (call $f2)
    catch $e1
     (call $f2)
    end
    (call $f2)
   catch $e1
    try
     (call $f2)
     (throw $e0)
    catch $e1
     (call $m (i32.const 11))
    catch $e0
     (call $m (i32.const 12))
    end
    try
     (call $m (i32.const 13))
     (throw $e0)
    delegate 2
   catch_all
    (call $f2)
    (call $m (i32.const 14))
   end
  catch_all
   (call $f2)
   (br 0)
  end
  try
   (call $m (i32.const 15))
  catch_all
   try
    (call $m (i32.const 16))
   end
   (rethrow 0)
  end
  )
  (func $f2
  (br 0)
  (throw $e0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  (call $f1)
  try
   (throw $e1)
   try
    (call $m (i32.const 1))
    (br 0)
   catch $e1
    (call $f2)
    (call $m (i32.const 2))
   catch $e0
    try
     (call $f2)
     (call $m (i32.const 3))
    catch_all
     (call $f2)
     (throw $e1)
    end
   catch_all
    try
     (call $m (i32.const 4))
    catch $e1
     (throw $e1)
     (call $m (i32.const 5))
    end
   end
   try
    try
     (call $m (i32.const 6))
     (call $m (i32.const 7))
    catch $e0
     (call $m (i32.const 8))
    catch $e1
     (call $f2)
     (br 3)
    end
    (throw $e0)
   catch $e0
    (call $m (i32.const 9))
    (rethrow 0)
   catch_all
    try
     (call $m (i32.const 10))
     (br 2)
    catch $e0
     (call $f1)
    catch $e1
     (br 2)
     (call $f1)
    catch_all
     (br 0)
    end
   end
  delegate 0
  )
  (func $f1
  try
   (br 1)
  catch $e0
   try
    try
     (call $f2)
     (call $m (i32.const 11))
    catch_all
     (br 1)
     (call $f2)
    end
   catch_all
    (rethrow 0)
    (rethrow 0)
   end
   try
    (call $f2)
    (br 1)
   catch $e0
    (call $m (i32.const 12))
   catch_all
    (call $f2)
   end
  catch_all
   (throw $e1)
   try
    (rethrow 1)
   delegate 1
  end
  )
  (func $f2
  (call $m (i32.const 13))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f1)
   (throw $e0)
   (throw $e1)
  catch $e0
   try
    block
     (rethrow 2)
     (rethrow 2)
    end
   catch $e0
    try
     (throw $e1)
     (throw $e0)
    catch $e0
     (call $f1)
     (call $f2)
    catch $e1
     (call $f2)
    end
   catch_all
    try
     (throw $e0)
    catch_all
     (throw $e0)
     (throw $e1)
    end
   end
  end
  try
   block
    try
     (call $m (i32.const 1))
     (br 3)
    end
    try
     (call $f2)
    delegate 0
   end
   try
    try
     (throw $e0)
    catch $e0
     (call $f2)
     (call $f2)
    catch $e1
     (call $f1)
    catch_all
     (throw $e0)
     (throw $e0)
    end
   delegate 0
  end
  )
  (func $f1
  try
   try
    (throw $e1)
    (call $m (i32.const 2))
   catch $e1
    (br 1)
   end
   try
    try
     (call $f2)
    delegate 2
    (throw $e0)
   catch $e1
    (call $m (i32.const 3))
    try
     (call $m (i32.const 4))
     (call $m (i32.const 5))
    catch $e1
     (call $m (i32.const 6))
     (throw $e0)
    catch $e0
     (call $f2)
     (call $m (i32.const 7))
    end
   catch $e0
    (call $m (i32.const 8))
   end
   (call $f2)
  delegate 0
  (throw $e1)
  try
   (br 1)
   try
    (throw $e0)
    (call $m (i32.const 9))
   delegate 1
   try
    (br 0)
    (call $m (i32.const 10))
   catch_all
    block
     (call $m (i32.const 11))
     (call $f2)
    end
    (call $m (i32.const 12))
   end
  catch $e0
   (call $m (i32.const 13))
   (call $f2)
   (throw $e0)
  catch_all
   (br 1)
   try
    try
     (call $m (i32.const 14))
    delegate 2
    try
     (call $f2)
    delegate 1
   end
   (throw $e0)
  end
  )
  (func $f2
  try
   try
    block
     (throw $e1)
     (call $m (i32.const 15))
    end
    (call $m (i32.const 16))
   end
   (call $m (i32.const 17))
  delegate 0
  (call $m (i32.const 18))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  block
   (br 1)
   try
    try
     (call $f2)
    catch $e1
     (call $m (i32.const 1))
     (throw $e0)
    catch_all
     (rethrow 0)
    end
    try
     (call $f2)
    catch_all
     (rethrow 0)
    end
   delegate 0
   (call $f2)
  end
  try
   try
    try
     (throw $e0)
     (call $m (i32.const 2))
    catch $e1
     (throw $e0)
     (call $f1)
    catch $e0
     (call $m (i32.const 3))
    catch_all
     (throw $e0)
     (br 2)
    end
   delegate 0
   (call $f2)
  catch $e0
   (call $f1)
  catch_all
   (rethrow 0)
   (br 1)
   try
    (call $m (i32.const 4))
    (br 0)
   delegate 1
  end
  )
  (func $f1
  block
   try
    (call $m (i32.const 5))
   end
  end
  try
   (call $f2)
  end
  )
  (func $f2
  block
   (call $m (i32.const 6))
  end
  try
   (throw $e0)
   (throw $e1)
   try
    (throw $e1)
    try
     (call $m (i32.const 7))
    end
   catch $e0
    (rethrow 0)
   end
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  )
  (func $f1
  try
   (throw $e0)
   try
    try
     (call $m (i32.const 2))
     (call $m (i32.const 3))
    catch_all
     (call $f2)
     (call $f2)
    end
   delegate 0
   block
    (call $m (i32.const 4))
   end
  catch $e1
   (rethrow 0)
   (call $m (i32.const 5))
  catch_all
   try
    (call $m (i32.const 6))
   delegate 0
  end
  )
  (func $f2
  try
   (call $m (i32.const 7))
  catch $e0
   (call $m (i32.const 8))
   try
    (call $m (i32.const 9))
   catch_all
    (br 1)
    block
     (call $m (i32.const 10))
    end
   end
  catch_all
   try
    (rethrow 1)
    try
     (throw $e1)
    catch $e0
     (call $m (i32.const 11))
    end
   catch $e0
    try
     (rethrow 1)
     (br 2)
    catch $e0
     (br 1)
    catch_all
     (throw $e0)
    end
    (rethrow 1)
   end
   (throw $e0)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  (call $f1)
  )
  (func $f1
  block
   (call $m (i32.const 1))
  end
  )
  (func $f2
  try
   block
    block
     (throw $e0)
     (call $m (i32.const 2))
    end
   end
   (br 0)
  catch $e0
   (call $m (i32.const 3))
  catch_all
   (call $m (i32.const 4))
  end
  (throw $e0)
  (call $m (i32.const 5))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f1)
  end
  (br 0)
  (call $m (i32.const 1))
  )
  (func $f1
  (br 0)
  )
  (func $f2
  block
   (br 0)
   try
    (call $m (i32.const 2))
    try
     (br 0)
    delegate 2
   end
   (br 0)
  end
  (throw $e1)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  )
  (func $f1
  (br 0)
  try
   try
    try
     (throw $e0)
    catch_all
     (call $f2)
    end
   delegate 0
  catch $e1
   (rethrow 0)
   (call $f2)
   try
    block
     (call $m (i32.const 1))
    end
    try
     (throw $e1)
    catch $e0
     (call $f2)
    catch_all
     (call $m (i32.const 2))
     (call $m (i32.const 3))
    end
   catch $e1
    try
     (br 3)
     (call $f2)
    catch $e0
     (call $f2)
     (call $m (i32.const 4))
    catch $e1
     (call $m (i32.const 5))
     (call $f2)
    end
   catch $e0
    (call $m (i32.const 6))
    try
     (call $f2)
     (call $m (i32.const 7))
    catch $e1
     (throw $e1)
    catch $e0
     (call $f2)
     (call $f2)
    end
   end
  end
  )
  (func $f2
  (call $m (i32.const 8))
  block
   (throw $e1)
   block
    block
     (throw $e0)
     (br 2)
    end
   end
  end
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f1)
  catch $e0
   try
    (call $m (i32.const 1))
    (call $m (i32.const 2))
   catch $e1
    try
     (br 3)
     (call $f2)
    delegate 2
    (call $m (i32.const 3))
   catch_all
    (call $f1)
    try
     (rethrow 1)
    delegate 1
   end
  catch $e1
   (rethrow 0)
   (throw $e1)
  end
  (br 0)
  )
  (func $f1
  (call $m (i32.const 4))
  try
   (call $m (i32.const 5))
   (call $m (i32.const 6))
  end
  )
  (func $f2
  try
   try
    try
     (br 0)
     (call $m (i32.const 7))
    end
   catch $e0
    (throw $e1)
    (call $m (i32.const 8))
   catch $e1
    (call $m (i32.const 9))
   catch_all
    try
     (call $m (i32.const 10))
     (throw $e0)
    delegate 0
    try
     (rethrow 1)
     (br 2)
    end
   end
   (throw $e0)
   (br 1)
  end
  try
   try
    (call $m (i32.const 11))
   catch $e1
    try
     (call $m (i32.const 12))
     (rethrow 1)
    catch $e1
     (br 0)
    catch_all
     (br 3)
     (rethrow 1)
    end
   catch $e0
    try
     (throw $e1)
     (throw $e1)
    delegate 1
   end
   block
    try
     (throw $e1)
    catch $e1
     (call $m (i32.const 13))
     (call $m (i32.const 14))
    catch $e0
     (call $m (i32.const 15))
     (throw $e1)
    end
   end
   (throw $e0)
  catch $e0
   (rethrow 0)
   (br 0)
  catch $e1
   block
    try
     (throw $e1)
    catch_all
     (call $m (i32.const 16))
    end
   end
  catch_all
   (rethrow 0)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 4005))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  try
   (call $m (i32.const 2))
   (throw $e0)
   try
    (br 0)
   end
  catch $e1
   (rethrow 0)
   try
    try
     (rethrow 2)
     (call $m (i32.const 3))
    catch_all
     (call $f1)
     (br 0)
    end
    block
     (call $f1)
     (throw $e1)
    end
   catch $e0
    (call $m (i32.const 4))
   catch_all
    (br 0)
    (rethrow 1)
   end
  catch $e0
   try
    try
     (call $f1)
    catch $e0
     (throw $e0)
     (call $f1)
    catch_all
     (br 3)
     (call $m (i32.const 5))
    end
    (throw $e0)
   catch $e0
    try
     (call $f1)
    catch $e0
     (rethrow 2)
     (call $m (i32.const 6))
    catch $e1
     (rethrow 1)
     (br 1)
    catch_all
     (call $f1)
     (br 1)
    end
    (call $m (i32.const 7))
   catch_all
    (throw $e0)
   end
   (rethrow 0)
  catch_all
   block
    (call $f1)
    (rethrow 1)
   end
  end
  try
   (throw $e1)
   try
    (call $f1)
   catch $e1
    try
     (call $m (i32.const 8))
    catch_all
     (call $m (i32.const 9))
    end
    try
     (br 2)
     (call $m (i32.const 10))
    catch $e0
     (call $f1)
     (call $f1)
    end
   catch_all
    (rethrow 0)
   end
  catch $e1
   try
    (call $m (i32.const 11))
    (call $m (i32.const 12))
   catch_all
    (call $f1)
   end
   (call $m (i32.const 13))
   try
    (br 1)
   catch $e1
    (call $m (i32.const 14))
    (call $f2)
   catch_all
    (call $m (i32.const 15))
   end
  catch $e0
   (call $m (i32.const 16))
  catch_all
   (call $f2)
   (call $f1)
  end
  )
  (func $f1
  (call $m (i32.const 17))
  (br 0)
  block
   (call $f2)
  end
  )
  (func $f2
  (call $m (i32.const 18))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (br 0)
   (call $m (i32.const 1))
   try
    (br 0)
    (call $f1)
   catch $e0
    (br 1)
   catch $e1
    try
     (call $f2)
     (call $m (i32.const 2))
    catch_all
     (br 1)
    end
    (rethrow 0)
   end
  catch $e1
   (call $m (i32.const 3))
   (call $m (i32.const 4))
  catch_all
   try
    (call $f1)
   catch $e0
    (rethrow 1)
   end
  end
  (call $m (i32.const 5))
  (br 0)
  )
  (func $f1
  (call $f2)
  (call $m (i32.const 6))
  (call $m (i32.const 7))
  )
  (func $f2
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 5))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e0)
  (br 0)
  (call $f1)
  )
  (func $f1
  (throw $e1)
  )
  (func $f2
  try
   try
    (throw $e0)
   catch_all
    try
     (throw $e0)
    delegate 0
   end
  catch_all
   (br 1)
  end
  try
   try
    (call $m (i32.const 1))
   end
   try
    try
     (call $m (i32.const 2))
    delegate 1
    (call $m (i32.const 3))
   end
   (throw $e1)
  delegate 0
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    (call $m (i32.const 1))
    (throw $e1)
   delegate 0
   (call $m (i32.const 2))
   (br 0)
  catch $e1
   try
    (call $m (i32.const 3))
   end
   try
    (throw $e1)
   catch $e1
    try
     (rethrow 1)
    catch $e1
     (call $m (i32.const 4))
     (br 3)
    end
   catch $e0
    (throw $e0)
    (call $f1)
   catch_all
    (call $f2)
    try
     (call $f2)
    catch $e0
     (call $f2)
     (throw $e1)
    catch $e1
     (call $f1)
    catch_all
     (call $f2)
    end
   end
  end
  try
   block
    (call $f1)
   end
   (call $f1)
  catch $e1
   (call $f2)
   try
    (call $f2)
    (call $m (i32.const 5))
   catch $e1
    block
     (rethrow 1)
    end
    try
     (call $m (i32.const 6))
     (call $f1)
    catch $e1
     (throw $e1)
     (call $m (i32.const 7))
    catch_all
     (throw $e1)
    end
   end
   (throw $e1)
  catch $e0
   try
    (throw $e0)
    (call $f2)
   end
   (rethrow 0)
  end
  (call $f1)
  )
  (func $f1
  (call $f2)
  )
  (func $f2
  block
   block
    try
     (br 1)
    catch $e1
     (call $m (i32.const 8))
    catch_all
     (call $m (i32.const 9))
    end
    (br 0)
   end
  end
  try
   try
    (br 2)
   catch $e0
    (call $m (i32.const 10))
   catch $e1
    try
     (throw $e1)
     (br 2)
    catch_all
     (call $m (i32.const 11))
     (throw $e0)
    end
    (br 2)
   end
  delegate 0
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1058))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  block
   (call $f2)
   (call $m (i32.const 1))
  end
  (br 0)
  (call $m (i32.const 2))
  )
  (func $f1
  (br 0)
  try
   try
    try
     (call $m (i32.const 3))
     (throw $e1)
    catch $e1
     (call $f2)
     (call $m (i32.const 4))
    end
    block
     (call $m (i32.const 5))
    end
   catch $e1
    (br 0)
   catch $e0
    block
     (call $m (i32.const 6))
    end
    try
     (call $f2)
     (rethrow 1)
    end
   catch_all
    try
     (br 3)
    catch $e0
     (br 0)
    catch_all
     (call $f2)
    end
    (call $m (i32.const 7))
   end
   (call $m (i32.const 8))
   (call $m (i32.const 9))
  catch $e0
   (call $f2)
   (rethrow 0)
   (br 1)
  catch $e1
   (call $m (i32.const 10))
   try
    block
     (call $m (i32.const 11))
     (rethrow 2)
    end
   delegate 0
  catch_all
   (call $f2)
  end
  try
   try
    (call $f2)
   delegate 0
   try
    (call $m (i32.const 12))
    (br 0)
   delegate 1
  catch $e1
   block
    try
     (call $m (i32.const 13))
    delegate 1
    (call $m (i32.const 14))
   end
   (throw $e1)
  catch $e0
   (call $m (i32.const 15))
   try
    block
     (call $m (i32.const 16))
     (call $f2)
    end
    block
     (br 1)
    end
   catch $e1
    try
     (call $m (i32.const 17))
    catch $e0
     (call $f2)
     (throw $e1)
    catch_all
     (throw $e1)
     (call $f2)
    end
   catch $e0
    try
     (br 3)
     (call $f2)
    delegate 0
    (throw $e0)
   end
  end
  )
  (func $f2
  try
   (call $m (i32.const 18))
   try
    (br 2)
    (call $m (i32.const 19))
   catch $e1
    try
     (rethrow 1)
    catch $e1
     (throw $e1)
     (br 3)
    catch_all
     (call $m (i32.const 20))
    end
    (throw $e1)
   end
   (br 0)
  catch $e1
   (br 0)
   (call $m (i32.const 21))
  catch $e0
   try
    try
     (throw $e1)
     (br 3)
    delegate 0
    block
     (call $m (i32.const 22))
     (br 2)
    end
   delegate 0
   (br 1)
   try
    (call $m (i32.const 23))
    (br 1)
   catch $e1
    (throw $e0)
    block
     (br 0)
     (br 3)
    end
   catch_all
    try
     (call $m (i32.const 24))
    catch $e1
     (throw $e0)
     (throw $e0)
    end
    (call $m (i32.const 25))
   end
  end
  (call $m (i32.const 26))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 559))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $m (i32.const 1))
   (throw $e1)
   (call $f1)
  delegate 0
  try
   try
    try
     (call $m (i32.const 2))
    catch $e1
     (call $f1)
    catch $e0
     (throw $e1)
     (call $m (i32.const 3))
    end
   catch $e1
    try
     (call $f2)
    delegate 1
    (call $m (i32.const 4))
   catch $e0
    (call $f1)
   end
   block
    (call $m (i32.const 5))
    try
     (call $m (i32.const 6))
    catch $e0
     (call $f1)
     (call $m (i32.const 7))
    end
   end
   block
    (call $m (i32.const 8))
    try
     (call $f2)
    catch_all
     (call $f1)
    end
   end
  catch $e1
   (call $m (i32.const 9))
   (call $m (i32.const 10))
   try
    try
     (call $m (i32.const 11))
     (call $m (i32.const 12))
    catch $e1
     (call $f2)
     (call $f2)
    catch_all
     (call $m (i32.const 13))
    end
    (call $m (i32.const 14))
   catch $e1
    (call $f2)
   catch $e0
    (call $m (i32.const 15))
    try
     (call $m (i32.const 16))
    delegate 2
   catch_all
    (br 1)
   end
  end
  (call $m (i32.const 17))
  )
  (func $f1
  block
   (br 0)
   (call $m (i32.const 18))
  end
  )
  (func $f2
  try
   (call $m (i32.const 19))
   (throw $e0)
  catch $e1
   (call $m (i32.const 20))
   (call $m (i32.const 21))
   (br 0)
  catch $e0
   (throw $e0)
  catch_all
   try
    try
     (call $m (i32.const 22))
    end
   delegate 0
   try
    (br 1)
   delegate 1
   try
    (throw $e1)
   catch $e0
    (br 0)
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  (throw $e0)
  (throw $e1)
  )
  (func $f1
  (call $f2)
  )
  (func $f2
  (call $m (i32.const 1))
  try
   (call $m (i32.const 2))
   (call $m (i32.const 3))
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f1)
   block
    (throw $e1)
   end
   block
    try
     (call $m (i32.const 1))
    end
    try
     (call $f2)
     (call $m (i32.const 2))
    delegate 1
   end
  catch_all
   (call $m (i32.const 3))
   (call $m (i32.const 4))
  end
  (throw $e1)
  try
   try
    try
     (call $f1)
     (call $m (i32.const 5))
    catch $e0
     (call $m (i32.const 6))
    catch $e1
     (call $m (i32.const 7))
    catch_all
     (call $f1)
     (call $f1)
    end
    block
     (call $f1)
    end
   catch $e0
    (call $m (i32.const 8))
   end
  catch_all
   (call $m (i32.const 9))
   (call $f1)
   (br 1)
  end
  )
  (func $f1
  try
   (call $f2)
   try
    try
     (br 0)
     (br 3)
    catch_all
     (call $f2)
    end
    try
     (throw $e0)
    catch $e1
     (call $f2)
    catch_all
     (call $m (i32.const 10))
     (br 2)
    end
   end
  catch $e1
   (call $m (i32.const 11))
  catch_all
   (call $m (i32.const 12))
   (call $f2)
  end
  try
   (call $f2)
   (call $f2)
  catch $e0
   (br 0)
   (br 1)
   try
    (call $f2)
    (call $m (i32.const 13))
   catch $e0
    (call $m (i32.const 14))
    (call $f2)
   catch $e1
    try
     (call $f2)
    end
    (call $m (i32.const 15))
   end
  catch $e1
   (rethrow 0)
   try
    (call $m (i32.const 16))
   end
  end
  )
  (func $f2
  block
   try
    (call $m (i32.const 17))
    try
     (throw $e0)
     (call $m (i32.const 18))
    delegate 2
   catch $e1
    (throw $e1)
    (call $m (i32.const 19))
   catch_all
    (call $m (i32.const 20))
    (call $m (i32.const 21))
   end
   (call $m (i32.const 22))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    block
     (br 2)
     (call $m (i32.const 1))
    end
   catch $e1
    (call $f2)
    try
     (throw $e0)
     (call $m (i32.const 2))
    end
   catch $e0
    (br 0)
    try
     (call $f1)
    catch_all
     (call $f1)
     (rethrow 0)
    end
   end
   try
    try
     (call $m (i32.const 3))
     (call $f1)
    catch $e0
     (br 3)
     (rethrow 0)
    catch $e1
     (call $m (i32.const 4))
     (br 3)
    catch_all
     (call $f2)
     (throw $e1)
    end
   catch_all
    try
     (call $f2)
     (call $f1)
    end
   end
   (call $m (i32.const 5))
  catch $e0
   (throw $e0)
   (call $f2)
   (call $f1)
  end
  )
  (func $f1
  try
   (br 1)
   (call $m (i32.const 6))
   (br 1)
  catch $e1
   try
    block
     (call $f2)
    end
   catch $e0
    try
     (call $m (i32.const 7))
     (call $m (i32.const 8))
    delegate 2
   catch $e1
    (call $f2)
   catch_all
    (call $m (i32.const 9))
   end
   (throw $e0)
   try
    try
     (br 1)
    delegate 2
   delegate 0
  catch $e0
   (call $f2)
  end
  )
  (func $f2
  (call $m (i32.const 10))
  (call $m (i32.const 11))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    try
     (throw $e1)
    catch $e1
     (call $f2)
     (call $f2)
    end
    try
     (throw $e0)
     (call $f1)
    catch $e1
     (call $f1)
    catch $e0
     (br 3)
    catch_all
     (call $f2)
     (throw $e0)
    end
   catch $e0
    try
     (rethrow 1)
     (br 0)
    end
    (rethrow 0)
   end
  catch_all
   (rethrow 0)
  end
  (call $f2)
  try
   try
    try
     (call $m (i32.const 1))
    end
   delegate 0
   try
    (call $m (i32.const 2))
   catch $e1
    try
     (call $f1)
     (throw $e0)
    delegate 0
    (rethrow 0)
   catch_all
    (call $f1)
    (rethrow 0)
   end
  delegate 0
  )
  (func $f1
  try
   (call $m (i32.const 3))
  delegate 0
  )
  (func $f2
  (throw $e1)
  (call $m (i32.const 4))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e0)
  )
  (func $f1
  (br 0)
  (call $f2)
  block
   (br 1)
  end
  )
  (func $f2
  (br 0)
  try
   try
    (br 0)
    try
     (call $m (i32.const 1))
    catch $e0
     (throw $e0)
    catch_all
     (call $m (i32.const 2))
     (throw $e0)
    end
   delegate 1
   block
    block
     (throw $e0)
     (br 2)
    end
    (br 2)
   end
  catch $e0
   try
    (call $m (i32.const 3))
    block
     (call $m (i32.const 4))
     (call $m (i32.const 5))
    end
   catch $e0
    (throw $e1)
    try
     (call $m (i32.const 6))
    end
   catch_all
    (call $m (i32.const 7))
    try
     (br 1)
    catch $e0
     (call $m (i32.const 8))
     (br 2)
    catch $e1
     (call $m (i32.const 9))
    end
   end
   try
    try
     (br 2)
    end
   end
   (rethrow 0)
  catch_all
   (call $m (i32.const 10))
  end
  (throw $e0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f2)
   (call $f1)
   try
    try
     (throw $e1)
    end
   catch_all
    try
     (call $f2)
     (call $m (i32.const 1))
    catch $e1
     (rethrow 1)
     (call $m (i32.const 2))
    catch $e0
     (br 1)
     (rethrow 1)
    catch_all
     (throw $e1)
    end
   end
  end
  block
   (call $f1)
   (throw $e1)
  end
  )
  (func $f1
  (br 0)
  try
   try
    (call $f2)
   catch $e1
    try
     (throw $e0)
     (throw $e1)
    catch $e0
     (call $m (i32.const 3))
     (call $f2)
    end
    (call $m (i32.const 4))
   catch_all
    block
     (br 2)
    end
   end
  catch $e1
   (call $m (i32.const 5))
   (throw $e0)
   try
    try
     (throw $e1)
    catch $e1
     (br 3)
     (call $m (i32.const 6))
    catch_all
     (call $f2)
    end
   catch_all
    (rethrow 1)
    (rethrow 1)
   end
  catch $e0
   (call $f2)
   (call $m (i32.const 7))
  end
  )
  (func $f2
  (br 0)
  (br 0)
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  )
  (func $f1
  (call $m (i32.const 2))
  )
  (func $f2
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    try
     (call $f2)
     (call $m (i32.const 1))
    catch $e0
     (rethrow 0)
     (rethrow 0)
    catch_all
     (call $f2)
     (call $m (i32.const 2))
    end
    try
     (call $m (i32.const 3))
    catch $e0
     (rethrow 0)
     (call $f1)
    catch $e1
     (call $f1)
    catch_all
     (call $f1)
     (call $m (i32.const 4))
    end
   catch $e0
    try
     (call $f2)
     (br 1)
    catch $e0
     (throw $e0)
    catch_all
     (call $f2)
     (br 0)
    end
    try
     (throw $e1)
     (br 0)
    catch $e0
     (throw $e0)
    end
   end
   try
    (call $f1)
    try
     (call $f1)
     (throw $e0)
    end
   catch_all
    (br 1)
    (call $m (i32.const 5))
   end
   try
    try
     (throw $e1)
    catch_all
     (br 1)
    end
    (call $m (i32.const 6))
   end
  delegate 0
  block
   try
    try
     (throw $e0)
    catch $e1
     (br 2)
     (call $m (i32.const 7))
    catch $e0
     (call $m (i32.const 8))
     (call $m (i32.const 9))
    catch_all
     (br 1)
    end
   catch $e1
    try
     (call $m (i32.const 10))
     (rethrow 1)
    catch $e0
     (call $f2)
     (call $m (i32.const 11))
    catch $e1
     (throw $e0)
     (throw $e0)
    end
    (throw $e1)
   catch $e0
    try
     (br 2)
    catch $e0
     (rethrow 1)
    catch $e1
     (call $m (i32.const 12))
    end
    (call $m (i32.const 13))
   catch_all
    try
     (call $f2)
     (br 3)
    end
   end
   (br 0)
   try
    (call $m (i32.const 14))
    (call $f2)
   catch_all
    (br 1)
    (rethrow 0)
   end
  end
  try
   try
    (throw $e1)
   catch_all
    (throw $e0)
   end
  catch $e1
   block
    try
     (rethrow 2)
     (throw $e0)
    delegate 1
   end
   try
    block
     (call $f1)
    end
   end
   (call $f1)
  catch $e0
   (call $f2)
   try
    try
     (call $f2)
     (throw $e1)
    catch $e1
     (call $f2)
    end
   catch $e1
    block
     (call $f1)
     (rethrow 1)
    end
   catch $e0
    (call $f1)
    (br 2)
   end
  end
  )
  (func $f1
  (throw $e1)
  (br 0)
  )
  (func $f2
  (throw $e0)
  (throw $e1)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    (throw $e0)
   catch_all
    try
     (call $f1)
    end
    try
     (call $f2)
     (rethrow 1)
    catch $e1
     (call $f1)
     (br 0)
    catch $e0
     (call $f1)
     (call $f1)
    end
   end
  catch $e0
   try
    (call $f2)
   delegate 0
   try
    try
     (call $f1)
    catch $e1
     (call $m (i32.const 1))
    catch_all
     (br 3)
     (call $m (i32.const 2))
    end
   catch $e0
    try
     (throw $e1)
    delegate 0
   end
   (call $m (i32.const 3))
  catch $e1
   (throw $e0)
  end
  try
   (call $m (i32.const 4))
   try
    try
     (call $f2)
    end
   catch $e1
    try
     (br 1)
    catch $e0
     (call $m (i32.const 5))
    end
   end
   (call $m (i32.const 6))
  delegate 0
  try
   (br 1)
   (throw $e0)
   (call $f1)
  catch $e0
   try
    try
     (throw $e1)
    catch $e0
     (br 3)
     (throw $e0)
    end
   catch $e0
    (call $f2)
   end
   (br 0)
  catch $e1
   (call $m (i32.const 7))
  catch_all
   (throw $e1)
   block
    try
     (call $m (i32.const 8))
     (call $m (i32.const 9))
    catch_all
     (call $f1)
     (rethrow 2)
    end
    (call $f1)
   end
  end
  )
  (func $f1
  try
   (br 1)
   (call $f2)
  catch $e0
   try
    (call $f2)
    (br 0)
   catch_all
    (throw $e0)
    (call $f2)
   end
   (call $m (i32.const 10))
  catch_all
   (call $m (i32.const 11))
   (call $m (i32.const 12))
  end
  (call $f2)
  )
  (func $f2
  try
   try
    try
     (throw $e1)
    catch_all
     (call $m (i32.const 13))
     (call $m (i32.const 14))
    end
   delegate 0
   try
    block
     (throw $e0)
     (call $m (i32.const 15))
    end
    block
     (call $m (i32.const 16))
    end
   catch $e1
    (br 1)
   catch $e0
    try
     (br 3)
    end
    (call $m (i32.const 17))
   end
  catch $e1
   (throw $e0)
   (call $m (i32.const 18))
  catch $e0
   (br 1)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 385240354))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  (throw $e0)
  )
  (func $f1
  (throw $e0)
  )
  (func $f2
  (call $m (i32.const 2))
  try
   (call $m (i32.const 3))
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (throw $e1)
   (throw $e1)
  catch $e1
   try
    try
     (call $f1)
    catch $e1
     (call $f1)
    end
   catch $e1
    (rethrow 0)
    (call $f1)
   catch_all
    block
     (rethrow 2)
    end
    block
     (throw $e1)
    end
   end
   block
    (call $f2)
   end
  end
  try
   (br 1)
  catch $e1
   (call $m (i32.const 1))
  catch $e0
   (call $f1)
  catch_all
   try
    (call $m (i32.const 2))
   catch $e0
    (call $m (i32.const 3))
   catch $e1
    (call $f1)
   end
   (br 0)
   (throw $e1)
  end
  (call $m (i32.const 4))
  )
  (func $f1
  block
   (call $m (i32.const 5))
   try
    (throw $e1)
   delegate 1
  end
  try
   try
    (br 2)
    block
     (call $f2)
    end
   catch_all
    (call $m (i32.const 6))
    (call $m (i32.const 7))
   end
   (call $m (i32.const 8))
   (throw $e0)
  catch $e1
   (call $m (i32.const 9))
  catch $e0
   (call $m (i32.const 10))
   (rethrow 0)
   (rethrow 0)
  catch_all
   (call $m (i32.const 11))
   (call $m (i32.const 12))
   (call $m (i32.const 13))
  end
  )
  (func $f2
  try
   try
    try
     (br 1)
     (call $m (i32.const 14))
    catch $e0
     (throw $e0)
    catch_all
     (rethrow 0)
     (rethrow 0)
    end
    (call $m (i32.const 15))
   delegate 0
  catch $e0
   (call $m (i32.const 16))
  catch_all
   (br 1)
  end
  try
   (br 0)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  (call $f1)
  )
  (func $f1
  (br 0)
  (call $m (i32.const 1))
  )
  (func $f2
  (call $m (i32.const 2))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  block
   (call $m (i32.const 1))
   try
    try
     (br 2)
     (br 1)
    delegate 2
   catch_all
    try
     (br 3)
     (call $m (i32.const 2))
    catch $e0
     (call $f2)
     (throw $e1)
    catch $e1
     (call $f1)
    catch_all
     (call $f2)
    end
   end
   (call $f1)
  end
  try
   (call $f2)
   try
    block
     (call $m (i32.const 3))
    end
   delegate 1
   try
    (br 1)
    try
     (call $f2)
    delegate 0
   delegate 0
  catch $e1
   block
    (br 1)
    try
     (call $m (i32.const 4))
    catch $e1
     (throw $e0)
    catch $e0
     (call $f2)
     (throw $e1)
    catch_all
     (call $m (i32.const 5))
    end
   end
   (call $m (i32.const 6))
   (call $m (i32.const 7))
  end
  try
   (call $f2)
   try
    (call $m (i32.const 8))
   catch_all
    (call $m (i32.const 9))
    try
     (call $f1)
    delegate 2
   end
  catch $e0
   (call $f2)
   try
    try
     (br 0)
     (throw $e1)
    delegate 0
    (call $f2)
   catch $e1
    (call $m (i32.const 10))
   catch $e0
    (call $f2)
    (br 2)
   catch_all
    try
     (call $m (i32.const 11))
    catch $e0
     (call $f2)
    catch $e1
     (br 1)
    catch_all
     (throw $e1)
    end
   end
  end
  )
  (func $f1
  try
   try
    block
     (call $m (i32.const 12))
    end
   catch_all
    (call $f2)
   end
   (call $f2)
   (call $f2)
  catch $e1
   try
    block
     (call $m (i32.const 13))
     (call $f2)
    end
   catch $e0
    try
     (call $m (i32.const 14))
     (throw $e0)
    catch $e1
     (call $f2)
    catch_all
     (call $f2)
     (rethrow 0)
    end
    (call $m (i32.const 15))
   catch_all
    (call $f2)
   end
   (br 1)
  catch $e0
   (call $f2)
   (call $f2)
  catch_all
   try
    try
     (call $m (i32.const 16))
     (call $m (i32.const 17))
    delegate 1
   end
   (call $f2)
   block
    (br 0)
   end
  end
  (br 0)
  )
  (func $f2
  block
   (call $m (i32.const 18))
   (throw $e1)
   try
    (call $m (i32.const 19))
   delegate 0
  end
  try
   try
    (call $m (i32.const 20))
    (br 2)
   catch $e0
    try
     (throw $e1)
     (throw $e1)
    end
    try
     (call $m (i32.const 21))
     (br 2)
    delegate 2
   end
  end
  (call $m (i32.const 22))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  (br 0)
  )
  (func $f1
  block
   (throw $e0)
  end
  block
   try
    block
     (call $m (i32.const 1))
     (call $m (i32.const 2))
    end
   catch $e1
    try
     (call $f2)
    delegate 1
    try
     (br 2)
    catch_all
     (call $m (i32.const 3))
    end
   catch $e0
    try
     (throw $e0)
     (br 2)
    catch $e1
     (throw $e1)
     (throw $e0)
    catch_all
     (call $f2)
     (rethrow 1)
    end
    (call $m (i32.const 4))
   catch_all
    (call $f2)
   end
   try
    try
     (call $m (i32.const 5))
     (call $f2)
    delegate 2
    (throw $e1)
   end
  end
  block
   (call $f2)
  end
  )
  (func $f2
  try
   try
    (br 0)
   catch $e0
    (call $m (i32.const 6))
   catch $e1
    (call $m (i32.const 7))
    (rethrow 0)
   end
  catch $e0
   try
    (call $m (i32.const 8))
   catch $e1
    try
     (throw $e1)
     (rethrow 2)
    catch_all
     (rethrow 2)
     (rethrow 0)
    end
   catch_all
    (throw $e0)
    try
     (call $m (i32.const 9))
    catch $e1
     (rethrow 2)
     (throw $e1)
    catch $e0
     (br 2)
    catch_all
     (call $m (i32.const 10))
     (br 1)
    end
   end
   block
    try
     (rethrow 2)
     (call $m (i32.const 11))
    catch $e1
     (throw $e1)
     (rethrow 0)
    catch_all
     (br 3)
    end
   end
   try
    try
     (call $m (i32.const 12))
    catch $e0
     (call $m (i32.const 13))
     (throw $e1)
    end
   catch $e0
    (throw $e1)
   catch_all
    block
     (throw $e1)
     (call $m (i32.const 14))
    end
   end
  catch $e1
   try
    (call $m (i32.const 15))
   catch $e1
    (call $m (i32.const 16))
    try
     (call $m (i32.const 17))
     (rethrow 2)
    end
   catch $e0
    try
     (rethrow 2)
     (rethrow 1)
    catch $e1
     (br 2)
     (call $m (i32.const 18))
    catch_all
     (call $m (i32.const 19))
     (call $m (i32.const 20))
    end
    (rethrow 0)
   end
  catch_all
   (call $m (i32.const 21))
   (br 0)
  end
  (throw $e0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  try
   (br 1)
  catch_all
   (call $f2)
   (call $m (i32.const 1))
  end
  )
  (func $f1
  try
   (throw $e0)
   (call $f2)
   (call $m (i32.const 2))
  catch $e1
   try
    try
     (call $m (i32.const 3))
    delegate 1
   catch_all
    block
     (call $f2)
    end
    try
     (throw $e0)
     (rethrow 2)
    catch_all
     (call $f2)
    end
   end
   (br 1)
   (throw $e1)
  end
  (call $m (i32.const 4))
  block
   (call $f2)
  end
  )
  (func $f2
  try
   (call $m (i32.const 5))
   (call $m (i32.const 6))
  delegate 0
  block
   (call $m (i32.const 7))
   (br 0)
  end
  try
   try
    block
     (br 2)
     (call $m (i32.const 8))
    end
   catch $e1
    try
     (call $m (i32.const 9))
     (rethrow 1)
    catch $e0
     (call $m (i32.const 10))
     (br 0)
    catch $e1
     (call $m (i32.const 11))
    catch_all
     (call $m (i32.const 12))
     (br 1)
    end
    (rethrow 0)
   catch $e0
    (throw $e0)
    try
     (br 2)
     (br 2)
    catch $e1
     (rethrow 0)
     (call $m (i32.const 13))
    catch_all
     (throw $e0)
    end
   end
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  block
   try
    (call $f2)
    (br 2)
   catch_all
    try
     (call $m (i32.const 1))
    catch $e0
     (br 2)
     (call $f2)
    catch_all
     (call $m (i32.const 2))
     (throw $e1)
    end
   end
   try
    (call $m (i32.const 3))
   catch $e0
    try
     (rethrow 1)
    catch $e0
     (br 3)
     (call $m (i32.const 4))
    catch $e1
     (br 3)
     (br 2)
    end
    (call $f1)
   catch $e1
    try
     (call $m (i32.const 5))
    catch $e0
     (call $f1)
     (rethrow 0)
    catch $e1
     (br 0)
     (call $m (i32.const 6))
    catch_all
     (call $f2)
    end
   end
   (call $f1)
  end
  try
   try
    block
     (call $m (i32.const 7))
     (call $m (i32.const 8))
    end
    (call $m (i32.const 9))
   catch $e0
    (rethrow 0)
   end
  catch $e0
   try
    try
     (call $m (i32.const 10))
     (throw $e1)
    catch $e0
     (call $m (i32.const 11))
    catch_all
     (call $f2)
    end
    (call $f2)
   catch $e1
    try
     (call $f2)
     (rethrow 2)
    delegate 0
   catch $e0
    (rethrow 0)
    try
     (rethrow 1)
     (call $m (i32.const 12))
    catch $e0
     (call $f2)
     (throw $e1)
    catch $e1
     (call $f1)
     (br 0)
    catch_all
     (call $m (i32.const 13))
     (call $m (i32.const 14))
    end
   catch_all
    try
     (call $f1)
    delegate 2
    try
     (rethrow 2)
    catch_all
     (br 1)
     (call $f2)
    end
   end
   try
    (call $m (i32.const 15))
   catch $e1
    (call $m (i32.const 16))
   catch $e0
    (call $m (i32.const 17))
   catch_all
    (call $m (i32.const 18))
   end
  end
  )
  (func $f1
  (throw $e0)
  try
   try
    block
     (throw $e0)
     (throw $e1)
    end
   delegate 1
  catch $e0
   (call $m (i32.const 19))
   (throw $e0)
   (call $f2)
  end
  )
  (func $f2
  try
   (call $m (i32.const 20))
   try
    try
     (br 2)
    delegate 1
   catch $e0
    (throw $e0)
    (rethrow 0)
   catch_all
    try
     (throw $e0)
     (throw $e0)
    catch $e1
     (throw $e0)
     (rethrow 1)
    catch $e0
     (br 1)
    catch_all
     (rethrow 0)
     (call $m (i32.const 21))
    end
   end
   try
    (call $m (i32.const 22))
    try
     (call $m (i32.const 23))
    catch_all
     (throw $e1)
    end
   catch_all
    (rethrow 0)
    try
     (call $m (i32.const 24))
    catch $e1
     (br 2)
    catch $e0
     (rethrow 0)
     (throw $e1)
    end
   end
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 20))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f2)
  catch $e1
   try
    (call $f2)
   delegate 0
  end
  (call $f1)
  )
  (func $f1
  (call $f2)
  try
   try
    try
     (call $f2)
     (call $f2)
    catch_all
     (call $f2)
    end
    (br 2)
   delegate 1
   block
    (call $m (i32.const 1))
   end
  catch $e1
   block
    (call $m (i32.const 2))
    (throw $e1)
   end
   try
    (rethrow 1)
   catch $e1
    (call $m (i32.const 3))
   catch $e0
    (rethrow 1)
    (call $m (i32.const 4))
   end
   (call $m (i32.const 5))
  end
  try
   try
    try
     (call $f2)
     (call $f2)
    delegate 1
    (call $m (i32.const 6))
   catch $e1
    try
     (call $f2)
     (call $f2)
    delegate 1
    try
     (rethrow 1)
    catch $e0
     (rethrow 0)
    catch $e1
     (br 2)
     (call $f2)
    end
   end
  delegate 0
  )
  (func $f2
  block
   (br 1)
   try
    (br 2)
   catch $e1
    (rethrow 0)
   catch $e0
    block
     (call $m (i32.const 7))
     (call $m (i32.const 8))
    end
   catch_all
    try
     (throw $e0)
     (call $m (i32.const 9))
    catch $e1
     (rethrow 1)
     (call $m (i32.const 10))
    catch $e0
     (call $m (i32.const 11))
    catch_all
     (throw $e1)
     (call $m (i32.const 12))
    end
   end
  end
  block
   (call $m (i32.const 13))
   try
    (throw $e0)
   end
   (br 0)
  end
  try
   (throw $e0)
  catch $e0
   try
    block
     (br 1)
    end
   catch $e0
    block
     (call $m (i32.const 14))
    end
    block
     (rethrow 2)
     (throw $e0)
    end
   catch_all
    (call $m (i32.const 15))
    block
     (call $m (i32.const 16))
    end
   end
   try
    (br 0)
   delegate 1
   try
    try
     (throw $e0)
    catch $e0
     (call $m (i32.const 17))
    catch $e1
     (br 2)
    end
    block
     (call $m (i32.const 18))
     (call $m (i32.const 19))
    end
   delegate 0
  catch $e1
   (br 1)
  catch_all
   block
    (call $m (i32.const 20))
    (call $m (i32.const 21))
   end
   block
    (call $m (i32.const 22))
   end
   (throw $e1)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  try
   (call $f1)
   try
    try
     (call $f2)
    catch $e1
     (call $m (i32.const 1))
    catch $e0
     (throw $e0)
     (br 2)
    end
   delegate 0
   block
    try
     (throw $e1)
     (call $m (i32.const 2))
    catch $e0
     (call $f1)
    catch $e1
     (throw $e0)
     (throw $e1)
    catch_all
     (call $f2)
     (call $m (i32.const 3))
    end
   end
  catch $e1
   (call $m (i32.const 4))
   block
    (rethrow 1)
    (br 0)
   end
   (call $m (i32.const 5))
  catch $e0
   (br 1)
   (throw $e0)
  end
  )
  (func $f1
  (call $m (i32.const 6))
  try
   (call $m (i32.const 7))
   try
    try
     (br 1)
    delegate 2
    (call $f2)
   delegate 0
  catch $e0
   try
    block
     (call $f2)
    end
   catch_all
    (call $f2)
   end
   try
    (br 1)
    try
     (call $m (i32.const 8))
    end
   end
   (call $m (i32.const 9))
  catch $e1
   try
    (call $m (i32.const 10))
    (br 0)
   delegate 1
  catch_all
   (br 0)
  end
  (call $f2)
  )
  (func $f2
  (throw $e1)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  block
   (br 0)
   (throw $e0)
   try
    (call $f1)
   catch $e1
    try
     (call $m (i32.const 1))
    catch_all
     (call $f2)
    end
    (br 2)
   catch $e0
    (throw $e1)
    (call $m (i32.const 2))
   catch_all
    (br 2)
    (call $m (i32.const 3))
   end
  end
  )
  (func $f1
  try
   try
    (br 1)
   catch_all
    block
     (call $f2)
     (call $m (i32.const 4))
    end
   end
   (call $m (i32.const 5))
   block
    try
     (call $m (i32.const 6))
     (call $f2)
    catch $e1
     (call $f2)
     (br 1)
    catch $e0
     (call $m (i32.const 7))
    catch_all
     (rethrow 0)
    end
    try
     (br 0)
    catch $e1
     (call $m (i32.const 8))
     (call $m (i32.const 9))
    catch $e0
     (throw $e0)
    catch_all
     (call $m (i32.const 10))
    end
   end
  catch $e1
   (call $m (i32.const 11))
  end
  (call $f2)
  )
  (func $f2
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  (call $m (i32.const 1))
  )
  (func $f1
  (throw $e1)
  (throw $e1)
  (call $m (i32.const 2))
  )
  (func $f2
  try
   try
    (call $m (i32.const 3))
   delegate 0
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  try
   (call $m (i32.const 1))
   (call $f2)
  catch $e1
   (call $f2)
   (br 1)
   (call $m (i32.const 2))
  catch_all
   try
    try
     (rethrow 2)
     (call $f1)
    catch $e1
     (call $f2)
     (br 0)
    end
    try
     (call $m (i32.const 3))
    delegate 1
   catch $e0
    try
     (call $m (i32.const 4))
    delegate 0
   catch $e1
    (br 2)
    try
     (rethrow 2)
    delegate 1
   end
   try
    (call $m (i32.const 5))
   delegate 1
  end
  )
  (func $f1
  try
   try
    try
     (call $m (i32.const 6))
     (br 3)
    catch $e0
     (call $m (i32.const 7))
     (throw $e1)
    catch_all
     (call $m (i32.const 8))
    end
    (br 2)
   delegate 0
   (call $f2)
  catch $e1
   try
    block
     (call $f2)
     (throw $e1)
    end
   catch $e1
    block
     (throw $e1)
    end
    (br 1)
   catch_all
    try
     (call $m (i32.const 9))
    catch $e1
     (call $f2)
    catch_all
     (br 2)
     (call $f2)
    end
   end
   try
    (rethrow 1)
   delegate 1
  end
  (br 0)
  try
   (call $f2)
  catch $e0
   try
    try
     (throw $e0)
     (call $m (i32.const 10))
    catch $e0
     (rethrow 2)
     (call $m (i32.const 11))
    catch $e1
     (br 1)
     (br 0)
    catch_all
     (throw $e0)
    end
   catch $e0
    block
     (call $m (i32.const 12))
    end
   catch $e1
    (call $m (i32.const 13))
   end
  catch_all
   (call $f2)
  end
  )
  (func $f2
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    (call $m (i32.const 1))
   catch_all
    (rethrow 0)
    try
     (rethrow 1)
     (call $m (i32.const 2))
    catch $e0
     (rethrow 0)
    catch_all
     (call $f1)
     (call $f2)
    end
   end
   try
    (throw $e1)
    try
     (throw $e1)
     (throw $e0)
    catch $e1
     (call $f2)
    catch_all
     (call $f1)
     (call $m (i32.const 3))
    end
   catch_all
    try
     (throw $e1)
     (call $m (i32.const 4))
    end
    try
     (throw $e0)
     (call $m (i32.const 5))
    catch $e0
     (br 0)
    end
   end
  catch $e1
   (call $m (i32.const 6))
  catch $e0
   try
    try
     (call $f1)
     (br 0)
    delegate 1
   end
  catch_all
   block
    (call $f2)
   end
  end
  )
  (func $f1
  (call $f2)
  (call $f2)
  )
  (func $f2
  try
   block
    (call $m (i32.const 7))
   end
  catch $e0
   (rethrow 0)
  end
  try
   try
    try
     (throw $e0)
     (br 1)
    delegate 2
   catch $e1
    (br 0)
    (rethrow 0)
   catch_all
    (call $m (i32.const 8))
   end
  catch_all
   (rethrow 0)
  end
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 37))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  (call $f2)
  (call $f2)
  )
  (func $f1
  try
   (call $m (i32.const 1))
   (throw $e1)
   try
    (throw $e0)
    (throw $e1)
   delegate 0
  end
  block
   try
    try
     (br 1)
     (throw $e1)
    catch $e0
     (call $f2)
    end
    (call $m (i32.const 2))
   end
   (call $f2)
   try
    (call $m (i32.const 3))
   catch $e1
    (call $f2)
   catch $e0
    (call $m (i32.const 4))
   end
  end
  )
  (func $f2
  (br 0)
  try
   try
    block
     (call $m (i32.const 5))
     (call $m (i32.const 6))
    end
    try
     (call $m (i32.const 7))
    delegate 2
   catch_all
    try
     (call $m (i32.const 8))
    catch $e1
     (call $m (i32.const 9))
     (call $m (i32.const 10))
    catch_all
     (br 2)
    end
    block
     (throw $e0)
    end
   end
  delegate 0
  try
   try
    try
     (call $m (i32.const 11))
    catch $e1
     (throw $e1)
     (rethrow 0)
    catch_all
     (rethrow 0)
    end
    (br 1)
   catch $e1
    (br 0)
    (br 1)
   catch $e0
    block
     (call $m (i32.const 12))
     (call $m (i32.const 13))
    end
    try
     (rethrow 1)
     (rethrow 1)
    catch $e1
     (br 1)
     (call $m (i32.const 14))
    catch $e0
     (rethrow 0)
     (rethrow 0)
    catch_all
     (throw $e0)
     (call $m (i32.const 15))
    end
   catch_all
    try
     (call $m (i32.const 16))
    delegate 1
   end
  catch_all
   try
    (rethrow 1)
    (rethrow 1)
   delegate 0
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $m (i32.const 1))
   try
    try
     (br 0)
    catch $e1
     (call $m (i32.const 2))
    catch $e0
     (call $f2)
    catch_all
     (br 1)
     (throw $e0)
    end
   catch $e0
    (call $f1)
    (throw $e1)
   end
   (throw $e0)
  catch_all
   try
    try
     (throw $e0)
     (call $f1)
    catch $e0
     (call $m (i32.const 3))
     (call $m (i32.const 4))
    catch $e1
     (call $f1)
    end
   catch $e1
    (call $f2)
    try
     (call $m (i32.const 5))
    delegate 0
   catch_all
    (rethrow 1)
    try
     (call $f1)
     (call $f1)
    catch $e0
     (call $f2)
    catch_all
     (call $f1)
     (call $f2)
    end
   end
   (call $m (i32.const 6))
  end
  )
  (func $f1
  (call $m (i32.const 7))
  )
  (func $f2
  (throw $e1)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 32804))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  )
  (func $f1
  block
   (call $f2)
   try
    (call $m (i32.const 1))
    (throw $e1)
   delegate 0
   try
    try
     (call $f2)
     (throw $e1)
    catch $e0
     (throw $e0)
     (call $f2)
    catch $e1
     (br 0)
    catch_all
     (rethrow 0)
    end
    (br 0)
   catch $e1
    (call $f2)
    try
     (call $m (i32.const 2))
    end
   catch_all
    (br 0)
   end
  end
  (br 0)
  (call $m (i32.const 3))
  )
  (func $f2
  (call $m (i32.const 4))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 4))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  try
   (br 0)
   (call $f1)
   (call $f2)
  delegate 0
  )
  (func $f1
  (call $f2)
  try
   (call $f2)
  catch $e0
   try
    try
     (throw $e1)
    delegate 0
    (call $f2)
   delegate 1
   (throw $e0)
  catch $e1
   (call $m (i32.const 1))
   (br 1)
   (call $f2)
  end
  try
   try
    try
     (call $f2)
    end
    (call $m (i32.const 2))
   delegate 1
   try
    block
     (call $f2)
    end
    (call $m (i32.const 3))
   catch $e0
    (call $m (i32.const 4))
    (call $f2)
   catch $e1
    (throw $e1)
   end
   block
    try
     (call $m (i32.const 5))
    delegate 0
   end
  catch $e1
   (call $m (i32.const 6))
  catch $e0
   (call $m (i32.const 7))
   (throw $e1)
  catch_all
   try
    (call $f2)
    try
     (call $m (i32.const 8))
     (call $m (i32.const 9))
    delegate 1
   catch_all
    try
     (call $m (i32.const 10))
    catch $e1
     (call $m (i32.const 11))
     (throw $e1)
    end
   end
   try
    (rethrow 1)
    (call $f2)
   delegate 1
  end
  )
  (func $f2
  try
   (call $m (i32.const 12))
   (br 0)
  catch_all
   try
    try
     (throw $e1)
    end
   catch $e0
    try
     (throw $e0)
     (rethrow 1)
    delegate 0
    (rethrow 1)
   end
   try
    block
     (br 1)
    end
    (rethrow 1)
   catch $e0
    (call $m (i32.const 13))
    try
     (br 0)
     (call $m (i32.const 14))
    catch_all
     (br 2)
    end
   catch $e1
    block
     (call $m (i32.const 15))
    end
   catch_all
    (call $m (i32.const 16))
    (rethrow 0)
   end
   (call $m (i32.const 17))
  end
  try
   block
    (call $m (i32.const 18))
   end
  catch $e0
   try
    (br 1)
    try
     (call $m (i32.const 19))
     (br 0)
    catch $e1
     (call $m (i32.const 20))
    catch $e0
     (call $m (i32.const 21))
    catch_all
     (throw $e1)
     (call $m (i32.const 22))
    end
   catch $e0
    (call $m (i32.const 23))
    try
     (br 3)
     (call $m (i32.const 24))
    delegate 2
   end
   block
    (call $m (i32.const 25))
    (br 1)
   end
   (call $m (i32.const 26))
  catch_all
   try
    try
     (br 1)
    delegate 2
    (call $m (i32.const 27))
   end
  end
  try
   (br 0)
   try
    (throw $e1)
    (call $m (i32.const 28))
   delegate 1
   try
    (call $m (i32.const 29))
   catch $e0
    (br 1)
    try
     (br 0)
     (br 2)
    end
   end
  catch $e0
   try
    (br 1)
    try
     (call $m (i32.const 30))
     (rethrow 2)
    catch $e0
     (call $m (i32.const 31))
    catch $e1
     (throw $e1)
    end
   catch $e0
    try
     (rethrow 1)
    delegate 1
    (br 2)
   catch $e1
    try
     (throw $e1)
    catch $e0
     (call $m (i32.const 32))
     (call $m (i32.const 33))
    catch $e1
     (call $m (i32.const 34))
    end
   end
   (br 0)
   (throw $e1)
  catch $e1
   (br 1)
  catch_all
   (call $m (i32.const 35))
   (throw $e0)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 390))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $m (i32.const 1))
   (call $m (i32.const 2))
  catch $e1
   try
    (rethrow 1)
   end
   (call $f1)
  end
  try
   (throw $e0)
  end
  )
  (func $f1
  block
   block
    (throw $e1)
    (call $m (i32.const 3))
   end
   (throw $e0)
  end
  try
   try
    try
     (call $f2)
     (call $m (i32.const 4))
    end
    (throw $e0)
   catch $e0
    (throw $e0)
    (br 2)
   catch $e1
    (br 2)
   catch_all
    (call $m (i32.const 5))
   end
  catch $e1
   (throw $e0)
   (call $f2)
  catch $e0
   (call $f2)
   (call $m (i32.const 6))
  end
  )
  (func $f2
  try
   try
    try
     (call $m (i32.const 7))
     (call $m (i32.const 8))
    catch_all
     (rethrow 0)
    end
   delegate 0
   (br 1)
  end
  (throw $e1)
  (call $m (i32.const 9))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $m (i32.const 1))
  catch $e0
   (call $f2)
   (call $m (i32.const 2))
   try
    block
     (rethrow 2)
    end
    (call $f2)
   catch $e0
    try
     (throw $e0)
     (rethrow 1)
    catch_all
     (throw $e0)
     (br 2)
    end
   catch_all
    (call $f1)
    (throw $e0)
   end
  end
  block
   try
    (call $m (i32.const 3))
    (call $m (i32.const 4))
   delegate 1
   try
    (throw $e1)
    block
     (call $m (i32.const 5))
     (call $f1)
    end
   catch_all
    (call $f1)
    try
     (br 0)
    end
   end
   (call $f2)
  end
  )
  (func $f1
  (call $f2)
  (call $m (i32.const 6))
  block
   (call $m (i32.const 7))
  end
  )
  (func $f2
  block
   (throw $e0)
   (call $m (i32.const 8))
  end
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    (br 1)
    block
     (call $f1)
    end
   catch $e0
    (call $m (i32.const 1))
   catch $e1
    try
     (call $f1)
     (throw $e1)
    delegate 0
    (rethrow 0)
   catch_all
    (call $f2)
    (throw $e1)
   end
  delegate 0
  )
  (func $f1
  (call $m (i32.const 2))
  )
  (func $f2
  try
   try
    try
     (call $m (i32.const 3))
     (call $m (i32.const 4))
    catch $e0
     (call $m (i32.const 5))
    end
   catch_all
    (br 1)
   end
  catch $e0
   (br 1)
   try
    try
     (throw $e0)
     (call $m (i32.const 6))
    end
   catch $e0
    (rethrow 0)
    block
     (call $m (i32.const 7))
     (call $m (i32.const 8))
    end
   catch_all
    try
     (throw $e0)
    delegate 2
   end
   (rethrow 0)
  catch $e1
   (throw $e0)
  end
  (call $m (i32.const 9))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e0)
  try
   try
    block
     (call $f2)
     (call $f1)
    end
    (call $m (i32.const 1))
   catch $e1
    (call $f1)
    (call $m (i32.const 2))
   catch_all
    (throw $e1)
   end
   (call $f1)
   try
    (call $f1)
    try
     (call $f2)
    delegate 1
   end
  catch $e0
   try
    try
     (call $f2)
    catch $e0
     (call $f1)
     (call $m (i32.const 3))
    catch $e1
     (call $m (i32.const 4))
    catch_all
     (call $f2)
     (call $f2)
    end
    (call $m (i32.const 5))
   catch $e1
    (call $f2)
    try
     (call $f1)
     (call $m (i32.const 6))
    catch $e0
     (rethrow 0)
     (call $m (i32.const 7))
    catch $e1
     (call $f2)
     (call $f2)
    end
   end
   try
    (throw $e1)
   end
  catch_all
   (call $f1)
   (br 1)
   (throw $e0)
  end
  try
   (br 0)
   try
    try
     (call $f2)
     (call $f2)
    delegate 1
    block
     (call $m (i32.const 8))
     (call $f1)
    end
   catch $e1
    try
     (call $f2)
    catch_all
     (rethrow 1)
     (call $m (i32.const 9))
    end
    try
     (throw $e0)
     (call $m (i32.const 10))
    catch_all
     (throw $e0)
    end
   end
  catch_all
   (call $m (i32.const 11))
   try
    block
     (call $f2)
    end
   delegate 0
  end
  )
  (func $f1
  try
   try
    block
     (call $f2)
    end
   catch $e0
    (throw $e0)
    (throw $e0)
   catch $e1
    try
     (rethrow 1)
     (throw $e1)
    end
   end
   (call $m (i32.const 12))
   (call $f2)
  catch_all
   (call $f2)
  end
  )
  (func $f2
  try
   (throw $e1)
   (call $m (i32.const 13))
   block
    (call $m (i32.const 14))
   end
  catch $e1
   try
    try
     (call $m (i32.const 15))
     (call $m (i32.const 16))
    catch $e0
     (call $m (i32.const 17))
     (call $m (i32.const 18))
    end
   catch_all
    (call $m (i32.const 19))
    try
     (rethrow 2)
     (call $m (i32.const 20))
    catch $e0
     (call $m (i32.const 21))
     (rethrow 0)
    catch_all
     (call $m (i32.const 22))
     (call $m (i32.const 23))
    end
   end
   (call $m (i32.const 24))
   try
    try
     (br 1)
     (br 0)
    catch_all
     (rethrow 0)
     (br 2)
    end
    (call $m (i32.const 25))
   catch $e1
    (throw $e0)
   end
  catch $e0
   (br 1)
   (throw $e0)
  catch_all
   block
    (call $m (i32.const 26))
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  try
   (call $m (i32.const 1))
  delegate 0
  )
  (func $f1
  (call $m (i32.const 2))
  (br 0)
  (call $m (i32.const 3))
  )
  (func $f2
  (call $m (i32.const 4))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  block
   (call $f2)
  end
  try
   try
    try
     (call $m (i32.const 1))
     (call $f2)
    delegate 1
   catch_all
    (throw $e1)
   end
   (call $f2)
  end
  )
  (func $f1
  try
   (call $m (i32.const 2))
   (throw $e0)
  catch_all
   (call $m (i32.const 3))
   (call $m (i32.const 4))
  end
  block
   (call $m (i32.const 5))
  end
  try
   (call $f2)
   block
    try
     (throw $e0)
    catch $e1
     (br 0)
     (call $f2)
    end
   end
  end
  )
  (func $f2
  block
   try
    try
     (throw $e0)
    catch_all
     (throw $e0)
    end
    (br 2)
   catch $e0
    (rethrow 0)
    try
     (br 3)
     (rethrow 1)
    delegate 0
   catch $e1
    try
     (rethrow 1)
    catch $e1
     (call $m (i32.const 6))
    catch $e0
     (call $m (i32.const 7))
    end
    try
     (call $m (i32.const 8))
     (call $m (i32.const 9))
    catch $e0
     (call $m (i32.const 10))
    end
   end
  end
  (call $m (i32.const 11))
  (call $m (i32.const 12))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  )
  (func $f1
  (call $m (i32.const 1))
  (br 0)
  try
   try
    try
     (br 1)
     (call $f2)
    catch $e0
     (call $m (i32.const 2))
    catch $e1
     (call $m (i32.const 3))
     (call $m (i32.const 4))
    end
    try
     (br 2)
     (br 1)
    delegate 2
   catch $e0
    block
     (br 2)
     (call $f2)
    end
    (call $f2)
   end
   (call $f2)
  catch $e0
   (br 0)
  catch $e1
   try
    (rethrow 1)
    (call $m (i32.const 5))
   catch $e1
    try
     (br 2)
     (call $f2)
    delegate 1
    (call $m (i32.const 6))
   catch $e0
    try
     (call $f2)
    end
    (call $f2)
   catch_all
    block
     (br 2)
    end
   end
   try
    try
     (throw $e0)
     (call $f2)
    end
    block
     (br 1)
     (call $f2)
    end
   catch_all
    block
     (rethrow 1)
     (throw $e0)
    end
   end
   try
    try
     (br 3)
     (call $f2)
    end
   delegate 0
  catch_all
   (rethrow 0)
   (call $f2)
   try
    (br 2)
    try
     (call $m (i32.const 7))
     (call $f2)
    end
   catch_all
    (call $f2)
   end
  end
  )
  (func $f2
  block
   try
    (call $m (i32.const 8))
    (call $m (i32.const 9))
   catch $e0
    (call $m (i32.const 10))
    (rethrow 0)
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 257))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $m (i32.const 1))
   (call $f1)
  catch $e0
   try
    try
     (br 1)
    catch $e1
     (call $m (i32.const 2))
     (throw $e0)
    catch_all
     (throw $e0)
    end
    block
     (call $m (i32.const 3))
     (rethrow 2)
    end
   catch_all
    (throw $e0)
   end
   (br 0)
   (throw $e1)
  catch_all
   (call $f2)
   try
    (call $m (i32.const 4))
   catch_all
    try
     (call $f1)
    catch $e0
     (br 3)
    catch $e1
     (br 0)
    catch_all
     (br 3)
    end
   end
  end
  try
   (throw $e1)
   (call $f2)
   (call $f1)
  end
  (br 0)
  )
  (func $f1
  try
   (throw $e0)
   try
    (call $m (i32.const 5))
    (call $f2)
   catch $e0
    (rethrow 0)
    (call $f2)
   catch_all
    (call $m (i32.const 6))
    try
     (call $f2)
     (call $f2)
    catch $e1
     (call $f2)
     (rethrow 1)
    catch $e0
     (call $m (i32.const 7))
    end
   end
   (call $f2)
  end
  )
  (func $f2
  block
   (call $m (i32.const 8))
  end
  try
   block
    try
     (throw $e1)
    catch $e0
     (br 0)
     (br 2)
    catch_all
     (rethrow 0)
    end
   end
   try
    (call $m (i32.const 9))
    try
     (call $m (i32.const 10))
    catch $e0
     (throw $e1)
     (rethrow 0)
    catch $e1
     (call $m (i32.const 11))
    end
   end
   try
    try
     (br 1)
    delegate 1
   catch $e0
    (call $m (i32.const 12))
    (call $m (i32.const 13))
   catch_all
    try
     (rethrow 1)
    delegate 1
    (throw $e1)
   end
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  try
   (throw $e1)
  catch_all
   try
    (call $f1)
   delegate 0
   (call $f1)
  end
  (throw $e0)
  )
  (func $f1
  (call $m (i32.const 1))
  (call $m (i32.const 2))
  (throw $e0)
  )
  (func $f2
  try
   (br 1)
   (call $m (i32.const 3))
   try
    try
     (call $m (i32.const 4))
     (throw $e1)
    delegate 1
   catch $e0
    (br 1)
    (call $m (i32.const 5))
   end
  catch $e1
   (call $m (i32.const 6))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    (br 2)
   catch $e1
    (call $f1)
   end
  delegate 0
  )
  (func $f1
  (call $m (i32.const 1))
  try
   block
    (throw $e1)
   end
   try
    (call $f2)
   catch_all
    block
     (call $f2)
     (call $f2)
    end
   end
  end
  (call $f2)
  )
  (func $f2
  block
   try
    block
     (throw $e0)
     (br 0)
    end
    (br 0)
   end
   (call $m (i32.const 2))
   (call $m (i32.const 3))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    try
     (throw $e0)
     (call $f1)
    end
    (call $f1)
   end
  delegate 0
  )
  (func $f1
  (throw $e0)
  (call $m (i32.const 1))
  block
   (br 0)
   try
    try
     (call $m (i32.const 2))
    delegate 2
   catch_all
    try
     (call $m (i32.const 3))
     (br 0)
    catch $e0
     (call $m (i32.const 4))
     (call $f2)
    catch $e1
     (call $f2)
    end
    try
     (call $m (i32.const 5))
     (call $m (i32.const 6))
    catch_all
     (rethrow 1)
     (call $f2)
    end
   end
  end
  )
  (func $f2
  (call $m (i32.const 7))
  try
   try
    block
     (br 3)
    end
   catch_all
    (rethrow 0)
   end
  catch_all
   (call $m (i32.const 8))
   block
    (call $m (i32.const 9))
   end
  end
  try
   block
    (br 2)
   end
   (call $m (i32.const 10))
  catch $e1
   try
    (call $m (i32.const 11))
   catch $e1
    try
     (call $m (i32.const 12))
     (rethrow 2)
    catch $e0
     (throw $e0)
     (call $m (i32.const 13))
    catch_all
     (call $m (i32.const 14))
    end
   catch $e0
    block
     (br 3)
     (rethrow 2)
    end
    (call $m (i32.const 15))
   end
   (throw $e1)
   (call $m (i32.const 16))
  catch $e0
   try
    try
     (call $m (i32.const 17))
    catch_all
     (throw $e0)
    end
   end
   (throw $e0)
   (throw $e1)
  catch_all
   (rethrow 0)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    (throw $e1)
    (call $f1)
   catch $e1
    try
     (call $m (i32.const 1))
     (call $f2)
    end
   catch $e0
    (br 2)
    (call $f1)
   catch_all
    (call $f1)
    (call $m (i32.const 2))
   end
   (call $m (i32.const 3))
   try
    block
     (br 0)
    end
   catch_all
    try
     (call $f2)
    delegate 0
   end
  delegate 0
  (br 0)
  block
   try
    (call $m (i32.const 4))
   catch $e1
    try
     (call $m (i32.const 5))
    end
   catch_all
    (call $m (i32.const 6))
    try
     (call $f1)
    catch $e1
     (call $f1)
     (call $f1)
    catch $e0
     (call $m (i32.const 7))
    end
   end
  end
  )
  (func $f1
  try
   try
    try
     (call $f2)
    catch $e1
     (call $f2)
     (call $m (i32.const 8))
    catch_all
     (br 0)
     (br 2)
    end
   catch_all
    (br 2)
   end
  delegate 0
  (throw $e0)
  )
  (func $f2
  try
   try
    block
     (throw $e1)
     (call $m (i32.const 9))
    end
    (call $m (i32.const 10))
   catch_all
    (throw $e1)
   end
  delegate 0
  block
   try
    (call $m (i32.const 11))
    try
     (br 2)
    catch $e1
     (call $m (i32.const 12))
    catch $e0
     (rethrow 0)
     (call $m (i32.const 13))
    end
   catch $e1
    try
     (br 1)
     (rethrow 1)
    delegate 2
   catch $e0
    (br 1)
   end
   try
    (throw $e1)
    try
     (call $m (i32.const 14))
     (throw $e1)
    delegate 2
   end
  end
  try
   try
    (throw $e0)
    (call $m (i32.const 15))
   catch $e0
    try
     (call $m (i32.const 16))
    catch $e0
     (call $m (i32.const 17))
    catch $e1
     (br 0)
    catch_all
     (br 3)
    end
   end
   try
    (call $m (i32.const 18))
    (call $m (i32.const 19))
   catch $e0
    (call $m (i32.const 20))
    (br 1)
   catch $e1
    try
     (br 3)
    delegate 0
    (call $m (i32.const 21))
   end
  catch $e1
   (throw $e0)
   (rethrow 0)
  catch_all
   (rethrow 0)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  try
   (br 1)
   try
    (call $m (i32.const 2))
   catch $e1
    (call $m (i32.const 3))
    (call $f2)
   catch_all
    (call $f2)
    (call $f2)
   end
   try
    try
     (br 1)
     (call $f1)
    delegate 0
    (call $f2)
   catch $e1
    try
     (call $f1)
     (call $m (i32.const 4))
    catch $e0
     (br 3)
     (call $m (i32.const 5))
    catch $e1
     (call $m (i32.const 6))
     (br 2)
    end
    block
     (rethrow 1)
     (call $m (i32.const 7))
    end
   catch $e0
    (call $f2)
    try
     (call $m (i32.const 8))
     (call $f1)
    catch $e1
     (rethrow 1)
     (call $m (i32.const 9))
    catch $e0
     (br 1)
     (call $f2)
    end
   catch_all
    (call $f2)
   end
  catch $e0
   try
    try
     (rethrow 2)
     (call $f1)
    catch $e0
     (throw $e0)
    catch $e1
     (br 3)
     (call $m (i32.const 10))
    catch_all
     (call $f2)
     (br 0)
    end
    try
     (br 2)
     (call $m (i32.const 11))
    catch $e0
     (call $m (i32.const 12))
    catch $e1
     (throw $e0)
    end
   end
  end
  try
   (call $f2)
   try
    (call $m (i32.const 13))
    block
     (call $f1)
     (call $m (i32.const 14))
    end
   catch $e1
    (br 2)
   catch_all
    try
     (throw $e1)
    delegate 0
    try
     (call $f2)
    catch $e0
     (call $f2)
     (call $m (i32.const 15))
    end
   end
   block
    try
     (call $f2)
    delegate 1
    try
     (br 2)
     (call $m (i32.const 16))
    delegate 0
   end
  delegate 0
  )
  (func $f1
  (call $f2)
  (call $m (i32.const 17))
  )
  (func $f2
  (call $m (i32.const 18))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  block
   (call $m (i32.const 1))
   try
    try
     (throw $e1)
     (call $m (i32.const 2))
    catch_all
     (call $f1)
    end
   catch_all
    (throw $e0)
   end
  end
  )
  (func $f1
  (br 0)
  )
  (func $f2
  try
   try
    try
     (call $m (i32.const 3))
    delegate 2
   catch $e0
    try
     (rethrow 1)
    end
    block
     (rethrow 1)
     (call $m (i32.const 4))
    end
   catch $e1
    (call $m (i32.const 5))
   catch_all
    (throw $e0)
    (call $m (i32.const 6))
   end
   try
    (throw $e0)
   delegate 0
  delegate 0
  (throw $e1)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  (call $m (i32.const 1))
  )
  (func $f1
  try
   (call $m (i32.const 2))
   (throw $e0)
  catch $e0
   (call $f2)
  catch $e1
   (call $m (i32.const 3))
   block
    try
     (call $m (i32.const 4))
    end
    (call $f2)
   end
  catch_all
   try
    try
     (rethrow 2)
     (call $m (i32.const 5))
    delegate 1
   catch_all
    (call $m (i32.const 6))
    (call $f2)
   end
   try
    try
     (call $m (i32.const 7))
    end
   delegate 0
  end
  try
   try
    try
     (call $f2)
     (call $m (i32.const 8))
    catch $e0
     (br 3)
     (throw $e1)
    catch $e1
     (rethrow 0)
     (throw $e1)
    end
   catch $e0
    (call $f2)
    (call $f2)
   catch $e1
    (call $f2)
   catch_all
    try
     (call $f2)
     (br 0)
    catch $e1
     (call $f2)
    catch_all
     (call $f2)
    end
    try
     (throw $e1)
    catch $e0
     (rethrow 1)
    end
   end
   (call $m (i32.const 9))
  catch_all
   (call $f2)
   try
    (throw $e0)
    (call $m (i32.const 10))
   catch $e1
    (br 0)
    try
     (throw $e1)
    delegate 2
   catch $e0
    try
     (call $f2)
     (call $f2)
    catch $e0
     (call $m (i32.const 11))
    catch_all
     (br 1)
    end
   catch_all
    (rethrow 0)
   end
  end
  )
  (func $f2
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 67550))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  )
  (func $f1
  (call $f2)
  )
  (func $f2
  (throw $e0)
  (br 0)
  (call $m (i32.const 1))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e1)
  (call $m (i32.const 1))
  )
  (func $f1
  (br 0)
  )
  (func $f2
  (call $m (i32.const 2))
  block
   try
    try
     (call $m (i32.const 3))
    catch $e1
     (call $m (i32.const 4))
    end
   delegate 0
  end
  (throw $e1)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (br 0)
  )
  (func $f1
  try
   block
    try
     (br 2)
     (br 3)
    catch $e1
     (call $m (i32.const 1))
    catch $e0
     (throw $e1)
     (br 3)
    end
    try
     (call $f2)
     (call $m (i32.const 2))
    catch $e1
     (br 0)
    end
   end
  catch $e0
   try
    (call $f2)
    (rethrow 1)
   delegate 1
   (br 0)
  catch_all
   try
    (call $m (i32.const 3))
    try
     (call $f2)
    catch $e0
     (call $f2)
    catch $e1
     (br 2)
     (call $f2)
    end
   catch $e1
    (call $f2)
    (call $f2)
   end
   (call $m (i32.const 4))
  end
  (call $m (i32.const 5))
  (call $f2)
  )
  (func $f2
  try
   try
    (throw $e1)
    (call $m (i32.const 6))
   delegate 1
  delegate 0
  try
   try
    try
     (br 1)
    catch $e1
     (call $m (i32.const 7))
     (call $m (i32.const 8))
    catch $e0
     (br 1)
    catch_all
     (call $m (i32.const 9))
     (br 1)
    end
   catch $e1
    (call $m (i32.const 10))
   catch $e0
    block
     (rethrow 1)
    end
    (call $m (i32.const 11))
   catch_all
    try
     (br 0)
    delegate 1
   end
  catch $e1
   block
    try
     (throw $e0)
     (throw $e0)
    catch $e0
     (call $m (i32.const 12))
    catch $e1
     (call $m (i32.const 13))
     (rethrow 2)
    catch_all
     (throw $e1)
    end
    (call $m (i32.const 14))
   end
  catch $e0
   block
    (br 2)
   end
   try
    (rethrow 1)
   delegate 0
   (br 0)
  catch_all
   block
    (br 2)
   end
   try
    try
     (call $m (i32.const 15))
    catch $e0
     (call $m (i32.const 16))
    end
    (throw $e0)
   catch_all
    (call $m (i32.const 17))
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  (call $m (i32.const 1))
  )
  (func $f1
  block
   (throw $e1)
   (call $m (i32.const 2))
   (call $m (i32.const 3))
  end
  )
  (func $f2
  (call $m (i32.const 4))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $m (i32.const 1))
   block
    (call $m (i32.const 2))
   end
   block
    (call $m (i32.const 3))
    (call $f1)
   end
  end
  (call $m (i32.const 4))
  )
  (func $f1
  (throw $e0)
  (call $f2)
  (call $m (i32.const 5))
  )
  (func $f2
  try
   block
    try
     (throw $e0)
    delegate 2
   end
   try
    (call $m (i32.const 6))
   delegate 1
   try
    try
     (br 2)
    catch $e1
     (call $m (i32.const 7))
    end
   catch_all
    (rethrow 0)
    (br 2)
   end
  catch_all
   (br 1)
   (rethrow 0)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  block
   (call $m (i32.const 1))
   try
    (throw $e0)
   catch $e0
    (call $f2)
   catch_all
    (call $f1)
   end
  end
  (br 0)
  try
   try
    (call $m (i32.const 2))
   catch $e1
    (call $m (i32.const 3))
    try
     (br 1)
    end
   catch $e0
    block
     (throw $e1)
     (call $f2)
    end
   catch_all
    (throw $e1)
    try
     (call $f1)
    delegate 0
   end
   (throw $e1)
  catch $e0
   (rethrow 0)
   (call $f1)
  catch $e1
   (call $m (i32.const 4))
  catch_all
   try
    (br 0)
    try
     (call $m (i32.const 5))
     (throw $e0)
    catch $e1
     (rethrow 2)
     (rethrow 0)
    catch_all
     (rethrow 2)
    end
   catch $e1
    try
     (throw $e0)
    catch $e0
     (br 1)
     (call $f1)
    catch $e1
     (throw $e1)
     (call $f1)
    catch_all
     (throw $e1)
     (throw $e0)
    end
   catch_all
    try
     (br 0)
     (call $f2)
    catch $e1
     (call $f2)
    catch $e0
     (call $m (i32.const 6))
     (br 2)
    end
    try
     (br 1)
     (call $f2)
    catch_all
     (call $m (i32.const 7))
    end
   end
  end
  )
  (func $f1
  (call $f2)
  (call $f2)
  )
  (func $f2
  block
   try
    try
     (call $m (i32.const 8))
     (call $m (i32.const 9))
    catch_all
     (call $m (i32.const 10))
    end
    try
     (throw $e0)
     (call $m (i32.const 11))
    catch $e1
     (br 0)
    catch $e0
     (call $m (i32.const 12))
    end
   catch $e1
    try
     (br 2)
    delegate 2
    (call $m (i32.const 13))
   catch_all
    (br 0)
   end
   try
    (call $m (i32.const 14))
   catch $e0
    try
     (throw $e1)
     (br 2)
    catch $e1
     (rethrow 1)
     (throw $e0)
    catch_all
     (throw $e0)
     (throw $e0)
    end
   catch_all
    block
     (call $m (i32.const 15))
    end
    (throw $e1)
   end
  end
  block
   block
    (br 2)
    try
     (br 1)
    catch $e1
     (call $m (i32.const 16))
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1170884))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  )
  (func $f1
  try
   try
    (call $m (i32.const 2))
    try
     (call $f2)
     (throw $e0)
    catch $e0
     (call $m (i32.const 3))
    end
   delegate 1
  catch $e1
   try
    try
     (call $m (i32.const 4))
    end
    (br 2)
   catch $e0
    (call $m (i32.const 5))
   catch $e1
    block
     (call $m (i32.const 6))
    end
    (throw $e0)
   catch_all
    (call $f2)
   end
   (rethrow 0)
  catch_all
   (call $m (i32.const 7))
  end
  (call $f2)
  try
   (throw $e1)
  catch $e0
   (throw $e0)
  catch_all
   block
    (call $m (i32.const 8))
   end
   try
    (call $f2)
    try
     (call $f2)
     (call $m (i32.const 9))
    catch $e0
     (throw $e0)
     (call $m (i32.const 10))
    end
   delegate 1
   try
    try
     (call $m (i32.const 11))
    end
   catch_all
    (br 0)
   end
  end
  )
  (func $f2
  block
   try
    try
     (throw $e0)
    catch $e0
     (call $m (i32.const 12))
    end
   catch $e0
    try
     (throw $e0)
    catch $e0
     (throw $e1)
    catch_all
     (throw $e0)
     (call $m (i32.const 13))
    end
   catch_all
    (call $m (i32.const 14))
    try
     (call $m (i32.const 15))
     (call $m (i32.const 16))
    catch $e1
     (rethrow 1)
     (throw $e0)
    catch_all
     (throw $e0)
    end
   end
   (br 0)
   block
    try
     (br 2)
     (br 1)
    delegate 1
   end
  end
  (throw $e1)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    block
     (throw $e1)
     (call $m (i32.const 1))
    end
    (call $f2)
   delegate 0
  catch_all
   (throw $e1)
   (call $f2)
  end
  (call $f1)
  (br 0)
  )
  (func $f1
  try
   (call $m (i32.const 2))
   try
    try
     (br 3)
     (call $f2)
    delegate 0
    (call $f2)
   catch $e0
    (call $f2)
    (call $f2)
   end
  catch $e0
   (call $f2)
  catch $e1
   try
    (br 2)
    try
     (throw $e0)
    catch_all
     (call $f2)
     (call $m (i32.const 3))
    end
   catch $e1
    try
     (br 1)
     (call $f2)
    catch $e0
     (call $m (i32.const 4))
     (call $f2)
    catch $e1
     (throw $e0)
     (rethrow 0)
    end
    block
     (br 2)
    end
   catch $e0
    try
     (call $m (i32.const 5))
     (call $f2)
    end
   catch_all
    (call $m (i32.const 6))
   end
   (call $m (i32.const 7))
  end
  try
   try
    try
     (call $f2)
     (call $f2)
    catch $e0
     (throw $e0)
    catch_all
     (rethrow 0)
    end
    (call $f2)
   catch_all
    (rethrow 0)
   end
   try
    (call $m (i32.const 8))
   catch $e0
    (throw $e1)
   catch $e1
    (call $f2)
    block
     (call $m (i32.const 9))
     (throw $e1)
    end
   catch_all
    (br 2)
   end
  catch $e1
   try
    try
     (call $m (i32.const 10))
     (call $f2)
    end
   catch_all
    (throw $e1)
   end
   (call $m (i32.const 11))
  end
  )
  (func $f2
  try
   block
    try
     (throw $e1)
    catch $e1
     (rethrow 0)
    catch $e0
     (throw $e1)
    catch_all
     (call $m (i32.const 12))
     (call $m (i32.const 13))
    end
    (call $m (i32.const 14))
   end
  catch $e0
   try
    try
     (call $m (i32.const 15))
    delegate 0
   catch_all
    block
     (call $m (i32.const 16))
     (call $m (i32.const 17))
    end
    try
     (throw $e1)
    catch_all
     (br 1)
     (rethrow 0)
    end
   end
   try
    try
     (throw $e1)
     (rethrow 2)
    catch $e1
     (br 0)
     (br 1)
    catch $e0
     (br 2)
    end
    (throw $e1)
   catch $e0
    try
     (rethrow 1)
    catch_all
     (call $m (i32.const 18))
     (throw $e0)
    end
    block
     (call $m (i32.const 19))
    end
   catch_all
    (br 1)
   end
  catch $e1
   try
    block
     (call $m (i32.const 20))
     (call $m (i32.const 21))
    end
   delegate 1
   try
    block
     (call $m (i32.const 22))
     (br 0)
    end
    (br 0)
   end
  catch_all
   try
    (call $m (i32.const 23))
   catch $e0
    try
     (rethrow 2)
    catch $e0
     (rethrow 2)
     (br 3)
    catch_all
     (call $m (i32.const 24))
     (call $m (i32.const 25))
    end
    try
     (call $m (i32.const 26))
    delegate 2
   catch $e1
    (rethrow 0)
    (br 1)
   catch_all
    try
     (br 0)
    catch_all
     (throw $e1)
     (rethrow 0)
    end
   end
   (rethrow 0)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e0)
  try
   (throw $e0)
   block
    (throw $e0)
   end
   block
    (call $f2)
    (call $f2)
   end
  catch_all
   try
    try
     (call $m (i32.const 1))
    catch_all
     (rethrow 0)
     (rethrow 0)
    end
    (throw $e0)
   catch $e1
    (br 0)
   catch_all
    try
     (rethrow 1)
    delegate 1
   end
  end
  )
  (func $f1
  (call $m (i32.const 2))
  try
   (throw $e0)
   (call $m (i32.const 3))
  catch_all
   (call $m (i32.const 4))
   try
    try
     (call $m (i32.const 5))
    catch $e1
     (br 1)
    catch $e0
     (throw $e0)
    end
   delegate 1
   (call $m (i32.const 6))
  end
  try
   try
    (throw $e0)
    try
     (call $f2)
     (call $f2)
    end
   catch_all
    try
     (call $m (i32.const 7))
    catch_all
     (rethrow 0)
    end
   end
  catch_all
   (throw $e0)
   (br 0)
   try
    (call $m (i32.const 8))
    (call $m (i32.const 9))
   catch $e0
    (call $f2)
    try
     (throw $e1)
    catch $e1
     (call $m (i32.const 10))
    catch $e0
     (br 2)
     (br 0)
    end
   end
  end
  )
  (func $f2
  try
   (call $m (i32.const 11))
   (throw $e1)
   try
    (call $m (i32.const 12))
    (call $m (i32.const 13))
   end
  catch $e1
   (call $m (i32.const 14))
   (br 1)
   try
    (call $m (i32.const 15))
   catch $e1
    block
     (br 0)
    end
    try
     (call $m (i32.const 16))
     (call $m (i32.const 17))
    catch $e1
     (throw $e0)
    catch $e0
     (call $m (i32.const 18))
     (rethrow 1)
    end
   catch $e0
    try
     (call $m (i32.const 19))
     (throw $e1)
    end
    try
     (br 0)
     (call $m (i32.const 20))
    catch $e1
     (throw $e0)
    catch $e0
     (call $m (i32.const 21))
    end
   catch_all
    try
     (throw $e1)
    catch $e0
     (call $m (i32.const 22))
     (call $m (i32.const 23))
    end
    block
     (call $m (i32.const 24))
    end
   end
  catch $e0
   (throw $e1)
   block
    try
     (throw $e1)
     (call $m (i32.const 25))
    delegate 0
    try
     (throw $e1)
    catch $e0
     (call $m (i32.const 26))
    catch $e1
     (call $m (i32.const 27))
    end
   end
   try
    (throw $e1)
   catch $e0
    try
     (rethrow 2)
    catch $e1
     (br 2)
    catch $e0
     (rethrow 1)
    catch_all
     (br 2)
    end
   catch_all
    try
     (call $m (i32.const 28))
    catch $e0
     (rethrow 2)
    end
    (call $m (i32.const 29))
   end
  end
  (throw $e1)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e1)
  )
  (func $f1
  (call $f2)
  )
  (func $f2
  try
   (br 1)
   (br 1)
   (br 1)
  catch $e0
   try
    (call $m (i32.const 1))
   catch $e1
    (rethrow 1)
    (call $m (i32.const 2))
   catch $e0
    (call $m (i32.const 3))
    try
     (br 1)
    end
   end
   (br 0)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $m (i32.const 1))
  catch $e1
   (call $m (i32.const 2))
   (call $m (i32.const 3))
   (call $f2)
  catch $e0
   (throw $e1)
  end
  try
   (call $m (i32.const 4))
   try
    (call $m (i32.const 5))
    try
     (call $m (i32.const 6))
     (call $f2)
    catch_all
     (call $f2)
    end
   end
  delegate 0
  )
  (func $f1
  try
   try
    (call $m (i32.const 7))
   catch_all
    try
     (call $f2)
     (rethrow 1)
    catch $e0
     (rethrow 1)
     (br 2)
    catch_all
     (call $f2)
    end
    (rethrow 0)
   end
  catch $e0
   (call $m (i32.const 8))
  catch_all
   try
    (rethrow 1)
    (rethrow 1)
   catch $e0
    (call $f2)
    (call $f2)
   catch $e1
    (call $f2)
    (throw $e0)
   end
  end
  )
  (func $f2
  try
   (call $m (i32.const 9))
   try
    try
     (throw $e1)
     (call $m (i32.const 10))
    catch_all
     (call $m (i32.const 11))
     (throw $e0)
    end
   delegate 1
  catch $e0
   (rethrow 0)
   try
    block
     (throw $e1)
    end
   delegate 0
   block
    (throw $e0)
   end
  catch $e1
   try
    (throw $e1)
   end
   (call $m (i32.const 12))
  catch_all
   (br 0)
   try
    (throw $e0)
   catch $e0
    try
     (call $m (i32.const 13))
     (throw $e1)
    end
   end
  end
  try
   try
    (call $m (i32.const 14))
   catch $e1
    try
     (call $m (i32.const 15))
     (throw $e1)
    catch $e1
     (rethrow 1)
    catch $e0
     (rethrow 0)
    end
    try
     (throw $e1)
     (br 2)
    catch $e1
     (call $m (i32.const 16))
    end
   catch $e0
    try
     (call $m (i32.const 17))
     (rethrow 1)
    catch $e1
     (throw $e0)
    catch $e0
     (br 0)
     (call $m (i32.const 18))
    catch_all
     (call $m (i32.const 19))
    end
   catch_all
    (call $m (i32.const 20))
    (call $m (i32.const 21))
   end
   (call $m (i32.const 22))
   (call $m (i32.const 23))
  catch $e1
   try
    (throw $e0)
    try
     (throw $e0)
     (throw $e1)
    catch $e1
     (call $m (i32.const 24))
     (rethrow 2)
    catch_all
     (rethrow 0)
     (call $m (i32.const 25))
    end
   catch $e1
    (br 1)
   catch $e0
    (call $m (i32.const 26))
    try
     (br 3)
     (throw $e1)
    catch $e1
     (br 1)
    end
   end
   try
    try
     (call $m (i32.const 27))
     (br 3)
    catch $e0
     (call $m (i32.const 28))
    catch $e1
     (call $m (i32.const 29))
     (rethrow 0)
    end
    block
     (call $m (i32.const 30))
     (br 1)
    end
   catch $e0
    (rethrow 1)
   catch_all
    (br 0)
    (call $m (i32.const 31))
   end
   (call $m (i32.const 32))
  catch_all
   try
    try
     (rethrow 2)
     (call $m (i32.const 33))
    delegate 0
    block
     (br 0)
     (br 1)
    end
   catch $e1
    (throw $e1)
    try
     (rethrow 1)
     (call $m (i32.const 34))
    catch $e1
     (call $m (i32.const 35))
    catch $e0
     (call $m (i32.const 36))
     (call $m (i32.const 37))
    end
   catch $e0
    (call $m (i32.const 38))
    block
     (call $m (i32.const 39))
    end
   catch_all
    try
     (br 3)
     (rethrow 2)
    delegate 2
    (rethrow 1)
   end
   try
    try
     (throw $e1)
    catch $e0
     (br 2)
     (call $m (i32.const 40))
    end
   end
   try
    (throw $e1)
    try
     (call $m (i32.const 41))
    delegate 0
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f1)
   try
    (throw $e0)
   catch_all
    (rethrow 0)
   end
   block
    block
     (call $f2)
    end
    try
     (throw $e1)
     (call $f2)
    catch $e1
     (rethrow 0)
     (throw $e0)
    catch $e0
     (br 3)
     (call $f2)
    catch_all
     (rethrow 0)
     (call $f1)
    end
   end
  end
  block
   (br 0)
   try
    (call $f2)
   catch $e1
    (call $m (i32.const 1))
    (call $f2)
   catch_all
    (call $m (i32.const 2))
    (br 0)
   end
   (br 0)
  end
  )
  (func $f1
  (call $m (i32.const 3))
  try
   (throw $e0)
   block
    (call $m (i32.const 4))
    (throw $e0)
   end
  delegate 0
  )
  (func $f2
  (throw $e1)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    (call $f2)
   end
   (call $m (i32.const 1))
   (call $m (i32.const 2))
  catch $e1
   try
    (call $f1)
   catch $e1
    (call $m (i32.const 3))
    (call $f2)
   catch_all
    (call $m (i32.const 4))
    try
     (rethrow 1)
     (throw $e0)
    end
   end
   (call $f2)
  catch $e0
   block
    (call $m (i32.const 5))
   end
   (call $m (i32.const 6))
   try
    (call $m (i32.const 7))
   catch $e1
    try
     (call $m (i32.const 8))
    catch_all
     (call $m (i32.const 9))
     (call $f2)
    end
   catch_all
    (call $m (i32.const 10))
   end
  catch_all
   (call $f1)
   (call $f2)
  end
  )
  (func $f1
  (call $f2)
  )
  (func $f2
  (br 0)
  (call $m (i32.const 11))
  (call $m (i32.const 12))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 33))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f2)
  end
  (call $m (i32.const 1))
  try
   try
    (throw $e0)
    block
     (throw $e0)
    end
   delegate 0
   (call $f2)
   (call $m (i32.const 2))
  catch_all
   try
    (call $m (i32.const 3))
   catch_all
    (br 2)
   end
  end
  )
  (func $f1
  (call $m (i32.const 4))
  (call $f2)
  try
   (call $f2)
   try
    try
     (call $m (i32.const 5))
     (throw $e1)
    delegate 2
    (call $f2)
   delegate 1
   try
    try
     (call $f2)
     (br 3)
    catch $e1
     (rethrow 0)
     (rethrow 0)
    catch $e0
     (br 1)
     (call $m (i32.const 6))
    end
   catch $e1
    (call $m (i32.const 7))
   catch $e0
    (br 1)
    (call $f2)
   catch_all
    block
     (throw $e0)
     (call $m (i32.const 8))
    end
    try
     (call $m (i32.const 9))
     (call $m (i32.const 10))
    catch $e1
     (call $m (i32.const 11))
    catch $e0
     (call $f2)
     (rethrow 0)
    catch_all
     (throw $e1)
    end
   end
  delegate 0
  )
  (func $f2
  (call $m (i32.const 12))
  try
   try
    try
     (br 0)
     (call $m (i32.const 13))
    delegate 1
   catch $e0
    try
     (call $m (i32.const 14))
     (call $m (i32.const 15))
    delegate 0
    (br 0)
   catch $e1
    (call $m (i32.const 16))
   end
   try
    try
     (throw $e1)
     (call $m (i32.const 17))
    catch_all
     (br 1)
    end
   catch $e0
    block
     (call $m (i32.const 18))
    end
   catch $e1
    (call $m (i32.const 19))
    (call $m (i32.const 20))
   end
   (call $m (i32.const 21))
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 377707))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  (call $f2)
  (call $m (i32.const 2))
  )
  (func $f1
  try
   (call $m (i32.const 3))
   (call $m (i32.const 4))
   (call $f2)
  delegate 0
  )
  (func $f2
  (call $m (i32.const 5))
  (throw $e1)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    try
     (throw $e1)
     (call $f1)
    catch $e1
     (call $f1)
     (br 2)
    catch $e0
     (throw $e0)
     (throw $e0)
    end
    (call $f2)
   delegate 1
   try
    try
     (call $m (i32.const 1))
    delegate 1
    (call $f2)
   delegate 0
   try
    try
     (throw $e0)
    catch $e1
     (call $m (i32.const 2))
    end
    block
     (br 3)
     (call $m (i32.const 3))
    end
   delegate 0
  end
  )
  (func $f1
  (call $f2)
  (call $m (i32.const 4))
  (throw $e0)
  )
  (func $f2
  (call $m (i32.const 5))
  try
   try
    (call $m (i32.const 6))
   catch $e0
    (br 0)
    block
     (call $m (i32.const 7))
     (call $m (i32.const 8))
    end
   catch $e1
    try
     (br 1)
    catch $e0
     (throw $e1)
     (call $m (i32.const 9))
    catch_all
     (call $m (i32.const 10))
    end
   catch_all
    try
     (br 2)
    catch_all
     (throw $e1)
     (call $m (i32.const 11))
    end
    block
     (rethrow 1)
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  (throw $e0)
  )
  (func $f1
  (call $f2)
  (call $f2)
  )
  (func $f2
  (throw $e1)
  try
   try
    try
     (call $m (i32.const 2))
     (throw $e1)
    catch $e0
     (call $m (i32.const 3))
     (rethrow 0)
    catch $e1
     (throw $e0)
     (call $m (i32.const 4))
    end
   end
   block
    try
     (br 1)
    catch $e1
     (call $m (i32.const 5))
     (call $m (i32.const 6))
    catch_all
     (throw $e1)
    end
    (call $m (i32.const 7))
   end
  delegate 0
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f1)
   block
    (call $f2)
   end
  catch $e0
   (call $m (i32.const 1))
  catch $e1
   (call $m (i32.const 2))
   (call $f1)
   try
    try
     (throw $e0)
    catch $e0
     (call $f1)
     (call $f1)
    catch $e1
     (call $f1)
    end
    (throw $e0)
   catch $e0
    (br 0)
   catch_all
    try
     (call $m (i32.const 3))
     (call $f2)
    catch $e1
     (call $m (i32.const 4))
    catch $e0
     (br 0)
    end
    (rethrow 1)
   end
  catch_all
   (rethrow 0)
   (call $m (i32.const 5))
   (br 1)
  end
  )
  (func $f1
  (call $f2)
  )
  (func $f2
  (call $m (i32.const 6))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 192))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    (call $m (i32.const 1))
   end
   try
    (call $m (i32.const 2))
   catch $e0
    try
     (call $m (i32.const 3))
     (br 3)
    catch $e1
     (call $f2)
     (br 1)
    catch $e0
     (br 0)
    end
    (rethrow 0)
   catch $e1
    (call $f1)
   catch_all
    try
     (rethrow 1)
    catch_all
     (call $m (i32.const 4))
     (call $f2)
    end
   end
  end
  (br 0)
  )
  (func $f1
  (call $m (i32.const 5))
  try
   (call $m (i32.const 6))
   (call $f2)
   (call $f2)
  end
  )
  (func $f2
  (throw $e1)
  (call $m (i32.const 7))
  try
   (call $m (i32.const 8))
  catch $e0
   (br 0)
   (br 0)
   (rethrow 0)
  catch $e1
   (throw $e0)
   (rethrow 0)
  catch_all
   (throw $e0)
   try
    try
     (br 0)
     (call $m (i32.const 9))
    delegate 0
   catch $e1
    (call $m (i32.const 10))
    (call $m (i32.const 11))
   catch_all
    (call $m (i32.const 12))
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 33))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  (throw $e1)
  try
   try
    try
     (throw $e0)
    catch $e0
     (call $f2)
    end
    (br 2)
   end
  catch $e0
   (throw $e1)
   (call $f1)
  catch $e1
   block
    (call $m (i32.const 1))
   end
  catch_all
   (call $f1)
   (throw $e1)
   try
    try
     (call $m (i32.const 2))
    delegate 1
   delegate 1
  end
  )
  (func $f1
  try
   (call $f2)
   (throw $e1)
   (call $m (i32.const 3))
  delegate 0
  )
  (func $f2
  try
   (br 0)
  catch $e1
   try
    try
     (call $m (i32.const 4))
     (call $m (i32.const 5))
    catch $e0
     (call $m (i32.const 6))
     (br 0)
    catch $e1
     (rethrow 0)
     (throw $e1)
    catch_all
     (rethrow 0)
     (call $m (i32.const 7))
    end
   catch $e1
    (throw $e1)
    (br 0)
   catch $e0
    try
     (call $m (i32.const 8))
    delegate 2
    try
     (call $m (i32.const 9))
    end
   end
   try
    try
     (call $m (i32.const 10))
     (rethrow 2)
    catch $e0
     (rethrow 0)
     (call $m (i32.const 11))
    catch $e1
     (call $m (i32.const 12))
    catch_all
     (call $m (i32.const 13))
     (call $m (i32.const 14))
    end
    block
     (rethrow 2)
     (call $m (i32.const 15))
    end
   delegate 1
  catch $e0
   block
    block
     (throw $e0)
    end
   end
  catch_all
   block
    (rethrow 1)
   end
  end
  (call $m (i32.const 16))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  block
   (call $m (i32.const 1))
   (call $m (i32.const 2))
  end
  )
  (func $f1
  try
   (call $m (i32.const 3))
  catch_all
   try
    try
     (rethrow 2)
     (br 2)
    delegate 2
    (rethrow 1)
   catch $e0
    try
     (call $f2)
     (call $f2)
    catch $e1
     (rethrow 0)
    catch $e0
     (call $f2)
    catch_all
     (throw $e0)
    end
   catch $e1
    try
     (throw $e0)
    delegate 2
    block
     (call $m (i32.const 4))
     (rethrow 2)
    end
   end
  end
  (call $f2)
  try
   block
    try
     (call $f2)
     (call $m (i32.const 5))
    catch $e1
     (call $f2)
    catch_all
     (call $m (i32.const 6))
     (rethrow 0)
    end
   end
   block
    try
     (call $f2)
     (call $f2)
    catch $e0
     (call $m (i32.const 7))
    end
    try
     (throw $e1)
     (call $f2)
    delegate 0
   end
   (call $m (i32.const 8))
  catch_all
   try
    (br 0)
    (throw $e0)
   end
  end
  )
  (func $f2
  try
   try
    try
     (call $m (i32.const 9))
     (br 3)
    catch $e1
     (br 1)
    catch_all
     (call $m (i32.const 10))
     (rethrow 0)
    end
    (call $m (i32.const 11))
   delegate 1
   try
    block
     (call $m (i32.const 12))
     (throw $e0)
    end
    (call $m (i32.const 13))
   delegate 1
  catch $e1
   (throw $e0)
   (call $m (i32.const 14))
   (rethrow 0)
  end
  (throw $e0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 33))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f2)
  catch $e1
   (throw $e0)
   try
    (call $m (i32.const 1))
   catch $e1
    (br 0)
   catch $e0
    (call $m (i32.const 2))
    block
     (call $m (i32.const 3))
    end
   end
   (throw $e0)
  end
  (call $m (i32.const 4))
  (call $f2)
  )
  (func $f1
  (call $f2)
  try
   try
    try
     (call $m (i32.const 5))
    delegate 1
   catch $e1
    try
     (call $f2)
    catch_all
     (call $m (i32.const 6))
     (call $m (i32.const 7))
    end
    (throw $e0)
   catch $e0
    try
     (br 3)
    catch $e0
     (throw $e0)
    end
   catch_all
    (br 0)
   end
   try
    (call $f2)
    block
     (call $m (i32.const 8))
     (br 3)
    end
   delegate 1
   block
    (br 1)
    block
     (call $f2)
     (call $m (i32.const 9))
    end
   end
  delegate 0
  (call $m (i32.const 10))
  )
  (func $f2
  try
   try
    (throw $e0)
   delegate 0
   (call $m (i32.const 11))
   try
    (throw $e0)
    (throw $e1)
   catch $e1
    (call $m (i32.const 12))
    (br 0)
   catch $e0
    block
     (rethrow 1)
     (rethrow 1)
    end
    (br 0)
   end
  catch $e0
   (throw $e1)
  end
  block
   (call $m (i32.const 13))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   block
    (call $m (i32.const 1))
   end
   try
    block
     (call $m (i32.const 2))
    end
    (call $m (i32.const 3))
   catch $e0
    (call $m (i32.const 4))
    try
     (throw $e1)
    catch $e0
     (call $m (i32.const 5))
     (call $m (i32.const 6))
    catch $e1
     (call $f1)
    end
   catch_all
    (call $m (i32.const 7))
    try
     (call $f2)
    catch_all
     (throw $e0)
     (rethrow 1)
    end
   end
  catch_all
   (call $f2)
   block
    (rethrow 1)
    try
     (throw $e0)
     (rethrow 2)
    delegate 1
   end
   (throw $e0)
  end
  )
  (func $f1
  (call $f2)
  (call $f2)
  (call $m (i32.const 8))
  )
  (func $f2
  (call $m (i32.const 9))
  try
   (call $m (i32.const 10))
   (call $m (i32.const 11))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1026))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (throw $e0)
   (call $m (i32.const 1))
  catch $e0
   (br 1)
  catch $e1
   block
    (call $f1)
    try
     (call $m (i32.const 2))
    catch $e0
     (call $f1)
     (call $m (i32.const 3))
    catch $e1
     (call $f1)
     (br 1)
    catch_all
     (call $f2)
    end
   end
  catch_all
   try
    try
     (call $f2)
    catch $e1
     (rethrow 0)
    catch $e0
     (br 2)
    catch_all
     (call $f1)
    end
   catch $e1
    try
     (br 3)
    catch $e1
     (call $f1)
     (br 1)
    end
    (rethrow 1)
   catch_all
    (call $m (i32.const 4))
    try
     (call $f1)
     (rethrow 2)
    end
   end
  end
  )
  (func $f1
  block
   try
    (call $f2)
    block
     (call $f2)
     (throw $e1)
    end
   catch $e1
    (call $f2)
    try
     (rethrow 1)
     (br 3)
    catch $e0
     (br 3)
     (call $f2)
    catch $e1
     (call $m (i32.const 5))
     (call $f2)
    end
   catch $e0
    (throw $e0)
    block
     (throw $e1)
     (call $m (i32.const 6))
    end
   end
  end
  try
   (call $f2)
   (call $f2)
  catch $e1
   (throw $e0)
  end
  (call $m (i32.const 7))
  )
  (func $f2
  try
   try
    block
     (call $m (i32.const 8))
     (throw $e0)
    end
   delegate 1
   (throw $e0)
  delegate 0
  (call $m (i32.const 9))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 0))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  (call $f2)
  )
  (func $f1
  try
   (call $f2)
   try
    try
     (call $m (i32.const 1))
     (call $f2)
    catch_all
     (call $m (i32.const 2))
    end
   catch $e0
    (br 2)
   catch_all
    try
     (rethrow 1)
     (call $m (i32.const 3))
    delegate 2
   end
   block
    (call $f2)
    (br 2)
   end
  delegate 0
  (throw $e1)
  try
   (call $m (i32.const 4))
   try
    (call $m (i32.const 5))
    (throw $e0)
   catch $e0
    block
     (rethrow 1)
    end
    try
     (call $f2)
    end
   catch $e1
    (call $f2)
   catch_all
    (call $m (i32.const 6))
   end
  delegate 0
  )
  (func $f2
  try
   (br 1)
   (call $m (i32.const 7))
   block
    (throw $e0)
   end
  catch $e1
   (throw $e0)
   (call $m (i32.const 8))
   (br 0)
  catch_all
   (throw $e1)
  end
  try
   try
    try
     (call $m (i32.const 9))
     (throw $e1)
    catch $e1
     (rethrow 0)
    catch $e0
     (rethrow 0)
     (rethrow 0)
    end
    try
     (call $m (i32.const 10))
    catch $e1
     (br 0)
    end
   delegate 0
   (throw $e1)
   (br 1)
  catch $e0
   try
    (throw $e0)
   catch $e1
    (call $m (i32.const 11))
    (br 2)
   catch $e0
    (rethrow 0)
    block
     (throw $e0)
    end
   end
   (throw $e1)
   try
    (rethrow 1)
    (br 1)
   catch $e1
    (throw $e0)
    try
     (call $m (i32.const 12))
    end
   catch $e0
    (call $m (i32.const 13))
   catch_all
    try
     (br 0)
    catch $e0
     (call $m (i32.const 14))
     (br 3)
    catch $e1
     (throw $e1)
     (call $m (i32.const 15))
    end
    (call $m (i32.const 16))
   end
  catch $e1
   (call $m (i32.const 17))
   (rethrow 0)
   (call $m (i32.const 18))
  end
  block
   (br 1)
   (br 1)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (throw $e0)
  )
  (func $f1
  try
   try
    (call $m (i32.const 1))
   end
   (call $m (i32.const 2))
   try
    (call $m (i32.const 3))
   catch $e0
    (call $f2)
   catch_all
    (call $m (i32.const 4))
   end
  delegate 0
  )
  (func $f2
  try
   try
    block
     (br 1)
    end
   catch_all
    (rethrow 0)
   end
   (throw $e1)
  catch $e0
   try
    try
     (rethrow 2)
     (call $m (i32.const 5))
    catch_all
     (call $m (i32.const 6))
     (rethrow 0)
    end
    block
     (throw $e0)
    end
   catch $e1
    (call $m (i32.const 7))
   catch_all
    block
     (rethrow 1)
    end
    block
     (rethrow 2)
     (call $m (i32.const 8))
    end
   end
  catch_all
   try
    (br 2)
   catch $e1
    try
     (rethrow 2)
     (throw $e0)
    catch $e1
     (call $m (i32.const 9))
     (rethrow 2)
    catch $e0
     (call $m (i32.const 10))
    end
   catch $e0
    (call $m (i32.const 11))
   catch_all
    (throw $e0)
    try
     (br 1)
    catch $e0
     (call $m (i32.const 12))
    catch_all
     (rethrow 1)
     (call $m (i32.const 13))
    end
   end
   (call $m (i32.const 14))
   block
    try
     (throw $e1)
     (rethrow 2)
    delegate 0
   end
  end
  try
   try
    try
     (throw $e0)
    catch $e1
     (throw $e0)
    catch_all
     (call $m (i32.const 15))
     (call $m (i32.const 16))
    end
    (br 1)
   catch $e1
    (call $m (i32.const 17))
   catch_all
    (call $m (i32.const 18))
   end
   try
    try
     (call $m (i32.const 19))
     (call $m (i32.const 20))
    catch $e1
     (throw $e0)
    end
    try
     (br 0)
     (call $m (i32.const 21))
    catch $e1
     (call $m (i32.const 22))
    end
   delegate 0
   try
    try
     (call $m (i32.const 23))
     (throw $e1)
    catch $e1
     (br 2)
     (call $m (i32.const 24))
    catch_all
     (throw $e1)
     (call $m (i32.const 25))
    end
   catch $e0
    (call $m (i32.const 26))
   end
  catch $e1
   (call $m (i32.const 27))
   try
    try
     (call $m (i32.const 28))
     (call $m (i32.const 29))
    end
    block
     (rethrow 2)
     (call $m (i32.const 30))
    end
   catch $e1
    (call $m (i32.const 31))
    (throw $e1)
   end
   try
    try
     (call $m (i32.const 32))
     (call $m (i32.const 33))
    delegate 1
   catch $e1
    (call $m (i32.const 34))
    (throw $e1)
   catch_all
    try
     (call $m (i32.const 35))
     (throw $e1)
    delegate 1
   end
  catch_all
   (rethrow 0)
   (call $m (i32.const 36))
   try
    (br 2)
    (rethrow 1)
   catch $e1
    try
     (br 2)
    catch $e1
     (throw $e0)
     (br 2)
    catch_all
     (call $m (i32.const 37))
    end
    (rethrow 0)
   catch_all
    try
     (br 3)
     (br 0)
    catch $e0
     (rethrow 1)
     (br 3)
    catch $e1
     (br 2)
     (throw $e1)
    end
   end
  end
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $m (i32.const 1))
  )
  (func $f1
  (br 0)
  )
  (func $f2
  (throw $e0)
  (call $m (i32.const 2))
  (br 0)
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 1))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f2)
   try
    try
     (call $m (i32.const 1))
     (call $m (i32.const 2))
    catch_all
     (call $m (i32.const 3))
    end
   catch $e1
    (throw $e0)
   catch $e0
    try
     (call $f2)
    delegate 2
    (call $m (i32.const 4))
   catch_all
    try
     (call $m (i32.const 5))
    catch $e1
     (br 1)
     (call $f1)
    catch $e0
     (call $f1)
     (call $m (i32.const 6))
    end
   end
  catch $e1
   block
    block
     (throw $e1)
     (call $m (i32.const 7))
    end
    (call $f2)
   end
  catch $e0
   try
    try
     (rethrow 2)
    delegate 1
   end
   (call $f1)
  end
  (call $f2)
  )
  (func $f1
  (call $f2)
  (throw $e1)
  (call $m (i32.const 8))
  )
  (func $f2
  block
   (throw $e1)
   try
    block
     (call $m (i32.const 9))
    end
   catch $e1
    try
     (rethrow 1)
     (throw $e1)
    catch_all
     (call $m (i32.const 10))
     (br 2)
    end
   end
  end
  try
   try
    try
     (call $m (i32.const 11))
     (throw $e1)
    catch $e1
     (br 1)
    catch $e0
     (br 0)
    end
   catch $e0
    try
     (call $m (i32.const 12))
    catch $e1
     (call $m (i32.const 13))
     (rethrow 1)
    catch_all
     (rethrow 1)
     (call $m (i32.const 14))
    end
    (rethrow 0)
   catch $e1
    (throw $e0)
    try
     (rethrow 1)
    catch_all
     (rethrow 1)
     (call $m (i32.const 15))
    end
   catch_all
    try
     (call $m (i32.const 16))
     (rethrow 1)
    catch_all
     (throw $e0)
    end
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f1)
  )
  (func $f1
  (call $f2)
  (throw $e0)
  try
   (call $m (i32.const 1))
   (br 0)
   try
    try
     (throw $e1)
     (call $m (i32.const 2))
    catch $e1
     (call $m (i32.const 3))
    catch $e0
     (call $f2)
     (br 3)
    end
    (call $f2)
   delegate 1
  catch_all
   try
    try
     (br 3)
     (call $m (i32.const 4))
    end
    try
     (rethrow 2)
     (rethrow 2)
    catch $e1
     (call $m (i32.const 5))
     (call $m (i32.const 6))
    end
   delegate 0
   (call $m (i32.const 7))
   (call $f2)
  end
  )
  (func $f2
  try
   try
    (call $m (i32.const 8))
   catch_all
    (rethrow 0)
    try
     (call $m (i32.const 9))
    catch_all
     (br 2)
    end
   end
   (call $m (i32.const 10))
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   try
    try
     (throw $e0)
    catch $e0
     (throw $e0)
    catch_all
     (call $m (i32.const 1))
    end
    block
     (call $f1)
    end
   delegate 1
   (call $f2)
  catch $e1
   try
    try
     (call $m (i32.const 2))
    catch $e1
     (rethrow 2)
    end
   catch $e0
    (call $m (i32.const 3))
   catch_all
    (call $f2)
   end
   (rethrow 0)
   (rethrow 0)
  catch_all
   (call $m (i32.const 4))
  end
  )
  (func $f1
  try
   try
    (call $m (i32.const 5))
   end
   (call $m (i32.const 6))
  delegate 0
  )
  (func $f2
  try
   try
    try
     (br 3)
     (call $m (i32.const 7))
    delegate 2
    (call $m (i32.const 8))
   end
  delegate 0
  try
   (br 0)
   try
    try
     (call $m (i32.const 9))
    catch_all
     (call $m (i32.const 10))
    end
   end
  catch_all
   block
    (throw $e1)
   end
  end
  try
   (call $m (i32.const 11))
   block
    try
     (call $m (i32.const 12))
     (throw $e0)
    catch $e0
     (call $m (i32.const 13))
     (call $m (i32.const 14))
    end
   end
  catch_all
   (throw $e1)
   (throw $e1)
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  try
   (call $f1)
   block
    try
     (call $m (i32.const 1))
    catch $e1
     (call $f2)
     (br 2)
    catch $e0
     (call $m (i32.const 2))
    end
    (call $m (i32.const 3))
   end
  catch $e0
   (call $f2)
  catch $e1
   try
    (call $f2)
    (throw $e1)
   catch $e0
    try
     (call $f1)
    catch $e1
     (call $f2)
     (call $m (i32.const 4))
    catch $e0
     (throw $e1)
    catch_all
     (call $m (i32.const 5))
     (call $m (i32.const 6))
    end
    try
     (call $f2)
    catch $e1
     (rethrow 1)
    catch $e0
     (call $f1)
    catch_all
     (rethrow 2)
    end
   catch $e1
    try
     (call $m (i32.const 7))
    end
   catch_all
    (call $m (i32.const 8))
   end
  catch_all
   block
    (call $f2)
    (call $f1)
   end
   (call $m (i32.const 9))
  end
  (call $f2)
  (call $m (i32.const 10))
  )
  (func $f1
  (br 0)
  )
  (func $f2
  block
   try
    try
     (throw $e0)
     (call $m (i32.const 11))
    delegate 1
   catch $e0
    (call $m (i32.const 12))
    block
     (br 1)
    end
   catch $e1
    (call $m (i32.const 13))
   end
   (call $m (i32.const 14))
   block
    (throw $e1)
    (call $m (i32.const 15))
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_exception (invoke "main"))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  (call $f1)
  )
  (func $f1
  block
   (call $m (i32.const 1))
  end
  (call $m (i32.const 2))
  (br 0)
  )
  (func $f2
  (call $m (i32.const 3))
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 2916))

(module
  (tag $e0)
  (tag $e1)
  (global $g (mut i32) (i32.const 0))
  (func $m (param i32) (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))
  (func $f0
  (call $f2)
  block
   try
    (call $m (i32.const 1))
    try
     (call $f1)
     (call $m (i32.const 2))
    catch $e0
     (rethrow 0)
    catch $e1
     (call $m (i32.const 3))
     (call $m (i32.const 4))
    end
   delegate 1
   try
    (call $m (i32.const 5))
    (call $f2)
   end
   block
    (call $m (i32.const 6))
    try
     (call $m (i32.const 7))
     (call $f1)
    catch $e1
     (br 2)
    catch_all
     (call $f2)
     (br 2)
    end
   end
  end
  try
   try
    (call $f1)
   end
   try
    try
     (call $m (i32.const 8))
    catch_all
     (throw $e1)
    end
   end
   try
    (call $m (i32.const 9))
    (br 0)
   catch_all
    (rethrow 0)
    (br 1)
   end
  catch $e0
   try
    (call $m (i32.const 10))
    try
     (call $m (i32.const 11))
     (call $f2)
    catch $e0
     (call $m (i32.const 12))
    end
   delegate 0
   try
    (call $f2)
    (call $m (i32.const 13))
   delegate 1
   try
    (throw $e0)
    try
     (call $f2)
    catch $e1
     (br 1)
     (br 2)
    catch $e0
     (call $m (i32.const 14))
    catch_all
     (br 1)
    end
   catch $e1
    (call $m (i32.const 15))
   catch $e0
    (call $f1)
   end
  catch_all
   (br 0)
   block
    try
     (call $m (i32.const 16))
    end
   end
   (call $m (i32.const 17))
  end
  )
  (func $f1
  (br 0)
  try
   (call $f2)
   try
    (throw $e1)
    try
     (call $m (i32.const 18))
    catch_all
     (call $f2)
     (throw $e0)
    end
   end
   try
    try
     (throw $e1)
    catch_all
     (call $m (i32.const 19))
    end
    (call $f2)
   delegate 1
  catch_all
   (call $m (i32.const 20))
  end
  )
  (func $f2
  (call $m (i32.const 21))
  (br 0)
  try
   try
    (br 1)
    try
     (throw $e1)
    delegate 2
   delegate 1
   try
    try
     (call $m (i32.const 22))
    delegate 2
   catch $e0
    (call $m (i32.const 23))
    try
     (rethrow 1)
    catch $e0
     (call $m (i32.const 24))
     (br 0)
    catch $e1
     (call $m (i32.const 25))
    end
   end
   try
    (call $m (i32.const 26))
   catch $e0
    try
     (call $m (i32.const 27))
    catch $e1
     (br 3)
     (call $m (i32.const 28))
    end
    try
     (rethrow 1)
     (call $m (i32.const 29))
    delegate 2
   end
  catch $e0
   (call $m (i32.const 30))
   (call $m (i32.const 31))
   try
    try
     (br 3)
    catch $e0
     (call $m (i32.const 32))
     (call $m (i32.const 33))
    catch $e1
     (br 3)
     (rethrow 0)
    catch_all
     (call $m (i32.const 34))
     (call $m (i32.const 35))
    end
   delegate 1
  catch_all
   block
    try
     (call $m (i32.const 36))
     (call $m (i32.const 37))
    catch $e0
     (call $m (i32.const 38))
     (call $m (i32.const 39))
    catch_all
     (call $m (i32.const 40))
     (br 3)
    end
    (call $m (i32.const 41))
   end
  end
  )
  (func (export "main") (result i32) (call $f0) (global.get $g)))
(assert_return (invoke "main") (i32.const 83737768))
