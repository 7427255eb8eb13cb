;; The matrix product at the heart of the recurrent layers, in WebAssembly SIMD (f64x2).
;;
;;   C[m x 4·np] = INIT + A[m x k] · B
;;
;; A: row-major float64, row stride `lda` bytes (the states h, or the input sequence).
;; B: the weight, packed once at load into `np` column panels of width 4: panel p holds
;;    B[kk, 4p .. 4p+3] for kk = 0..k-1, contiguous (k·4 float64 = k·32 bytes per panel), zero-padded.
;; INIT: float64 rows added to the product (the precomputed x·W + b of this timestep, or a bias row);
;;    row i starts at init + i·ldi bytes (ldi = 0 repeats one row).
;; Products and sums are float64 (a float32 weight times a float32 input is exact in float64), so the
;; result is as exact as a float64 reference computed in another order.
;; All pointers are byte offsets into the exported memory; the caller owns the layout.
(module
  (memory (export "memory") 1)

  ;; 4 rows x 4 columns, 8 accumulators.
  (func $tile4x4 (param $a i32) (param $lda i32) (param $k i32) (param $b i32)
                 (param $c i32) (param $ldc i32) (param $init i32) (param $ldi i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $end i32)
    (local $bv0 v128) (local $bv1 v128) (local $s v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $a1 (i32.add (local.get $a) (local.get $lda)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $lda)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $lda)))
    (local.set $c00 (v128.load (local.get $init)))
    (local.set $c01 (v128.load offset=16 (local.get $init)))
    (local.set $init (i32.add (local.get $init) (local.get $ldi)))
    (local.set $c10 (v128.load (local.get $init)))
    (local.set $c11 (v128.load offset=16 (local.get $init)))
    (local.set $init (i32.add (local.get $init) (local.get $ldi)))
    (local.set $c20 (v128.load (local.get $init)))
    (local.set $c21 (v128.load offset=16 (local.get $init)))
    (local.set $init (i32.add (local.get $init) (local.get $ldi)))
    (local.set $c30 (v128.load (local.get $init)))
    (local.set $c31 (v128.load offset=16 (local.get $init)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $kk
        (local.set $bv0 (v128.load (local.get $b)))
        (local.set $bv1 (v128.load offset=16 (local.get $b)))
        (local.set $s (v128.load64_splat (local.get $a)))
        (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $s) (local.get $bv0))))
        (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $s) (local.get $bv1))))
        (local.set $s (v128.load64_splat (local.get $a1)))
        (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $s) (local.get $bv0))))
        (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $s) (local.get $bv1))))
        (local.set $s (v128.load64_splat (local.get $a2)))
        (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $s) (local.get $bv0))))
        (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $s) (local.get $bv1))))
        (local.set $s (v128.load64_splat (local.get $a3)))
        (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $s) (local.get $bv0))))
        (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $s) (local.get $bv1))))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $a1 (i32.add (local.get $a1) (i32.const 8)))
        (local.set $a2 (i32.add (local.get $a2) (i32.const 8)))
        (local.set $a3 (i32.add (local.get $a3) (i32.const 8)))
        (br_if $kk (i32.lt_u (local.get $a) (local.get $end)))))
    (v128.store (local.get $c) (local.get $c00))
    (v128.store offset=16 (local.get $c) (local.get $c01))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c10))
    (v128.store offset=16 (local.get $c) (local.get $c11))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c20))
    (v128.store offset=16 (local.get $c) (local.get $c21))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c30))
    (v128.store offset=16 (local.get $c) (local.get $c31)))

  ;; 1 row x 16 columns (4 panels, `ps` bytes apart), 8 accumulators: the batch-1 matrix-vector product.
  (func $tile1x16 (param $a i32) (param $k i32) (param $b i32) (param $ps i32) (param $c i32) (param $init i32)
    (local $b1 i32) (local $b2 i32) (local $b3 i32) (local $end i32) (local $s v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (local.set $b1 (i32.add (local.get $b) (local.get $ps)))
    (local.set $b2 (i32.add (local.get $b1) (local.get $ps)))
    (local.set $b3 (i32.add (local.get $b2) (local.get $ps)))
    (local.set $c0 (v128.load (local.get $init)))
    (local.set $c1 (v128.load offset=16 (local.get $init)))
    (local.set $c2 (v128.load offset=32 (local.get $init)))
    (local.set $c3 (v128.load offset=48 (local.get $init)))
    (local.set $c4 (v128.load offset=64 (local.get $init)))
    (local.set $c5 (v128.load offset=80 (local.get $init)))
    (local.set $c6 (v128.load offset=96 (local.get $init)))
    (local.set $c7 (v128.load offset=112 (local.get $init)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $kk
        (local.set $s (v128.load64_splat (local.get $a)))
        (local.set $c0 (f64x2.add (local.get $c0) (f64x2.mul (local.get $s) (v128.load (local.get $b)))))
        (local.set $c1 (f64x2.add (local.get $c1) (f64x2.mul (local.get $s) (v128.load offset=16 (local.get $b)))))
        (local.set $c2 (f64x2.add (local.get $c2) (f64x2.mul (local.get $s) (v128.load (local.get $b1)))))
        (local.set $c3 (f64x2.add (local.get $c3) (f64x2.mul (local.get $s) (v128.load offset=16 (local.get $b1)))))
        (local.set $c4 (f64x2.add (local.get $c4) (f64x2.mul (local.get $s) (v128.load (local.get $b2)))))
        (local.set $c5 (f64x2.add (local.get $c5) (f64x2.mul (local.get $s) (v128.load offset=16 (local.get $b2)))))
        (local.set $c6 (f64x2.add (local.get $c6) (f64x2.mul (local.get $s) (v128.load (local.get $b3)))))
        (local.set $c7 (f64x2.add (local.get $c7) (f64x2.mul (local.get $s) (v128.load offset=16 (local.get $b3)))))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (local.set $b1 (i32.add (local.get $b1) (i32.const 32)))
        (local.set $b2 (i32.add (local.get $b2) (i32.const 32)))
        (local.set $b3 (i32.add (local.get $b3) (i32.const 32)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br_if $kk (i32.lt_u (local.get $a) (local.get $end)))))
    (v128.store (local.get $c) (local.get $c0))
    (v128.store offset=16 (local.get $c) (local.get $c1))
    (v128.store offset=32 (local.get $c) (local.get $c2))
    (v128.store offset=48 (local.get $c) (local.get $c3))
    (v128.store offset=64 (local.get $c) (local.get $c4))
    (v128.store offset=80 (local.get $c) (local.get $c5))
    (v128.store offset=96 (local.get $c) (local.get $c6))
    (v128.store offset=112 (local.get $c) (local.get $c7)))

  ;; 1 row x 4 columns (one panel): the leftover panels of a row.
  (func $tile1x4 (param $a i32) (param $k i32) (param $b i32) (param $c i32) (param $init i32)
    (local $end i32) (local $s v128) (local $c0 v128) (local $c1 v128)
    (local.set $c0 (v128.load (local.get $init)))
    (local.set $c1 (v128.load offset=16 (local.get $init)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $kk
        (local.set $s (v128.load64_splat (local.get $a)))
        (local.set $c0 (f64x2.add (local.get $c0) (f64x2.mul (local.get $s) (v128.load (local.get $b)))))
        (local.set $c1 (f64x2.add (local.get $c1) (f64x2.mul (local.get $s) (v128.load offset=16 (local.get $b)))))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br_if $kk (i32.lt_u (local.get $a) (local.get $end)))))
    (v128.store (local.get $c) (local.get $c0))
    (v128.store offset=16 (local.get $c) (local.get $c1)))

  ;; C = INIT + A · B over all rows and panels: 4-row tiles first, then single rows 16 (then 4) columns at a time.
  (func (export "matmul") (param $a i32) (param $lda i32) (param $m i32) (param $k i32)
        (param $b i32) (param $np i32) (param $c i32) (param $ldc i32) (param $init i32) (param $ldi i32)
    (local $i i32) (local $p i32) (local $ps i32)
    (local.set $ps (i32.shl (local.get $k) (i32.const 5)))
    (block $rows4done
      (loop $rows4
        (br_if $rows4done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $m)))
        (local.set $p (i32.const 0))
        (block $pdone
          (loop $panels
            (br_if $pdone (i32.ge_u (local.get $p) (local.get $np)))
            (call $tile4x4
              (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda)))
              (local.get $lda) (local.get $k)
              (i32.add (local.get $b) (i32.mul (local.get $p) (local.get $ps)))
              (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))) (i32.shl (local.get $p) (i32.const 5)))
              (local.get $ldc)
              (i32.add (i32.add (local.get $init) (i32.mul (local.get $i) (local.get $ldi))) (i32.shl (local.get $p) (i32.const 5)))
              (local.get $ldi))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $panels)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rows4)))
    (block $rowsdone
      (loop $rows
        (br_if $rowsdone (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $p (i32.const 0))
        (block $p16done
          (loop $p16
            (br_if $p16done (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $np)))
            (call $tile1x16
              (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda)))
              (local.get $k)
              (i32.add (local.get $b) (i32.mul (local.get $p) (local.get $ps)))
              (local.get $ps)
              (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))) (i32.shl (local.get $p) (i32.const 5)))
              (i32.add (i32.add (local.get $init) (i32.mul (local.get $i) (local.get $ldi))) (i32.shl (local.get $p) (i32.const 5))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $p16)))
        (block $p4done
          (loop $p4
            (br_if $p4done (i32.ge_u (local.get $p) (local.get $np)))
            (call $tile1x4
              (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda)))
              (local.get $k)
              (i32.add (local.get $b) (i32.mul (local.get $p) (local.get $ps)))
              (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))) (i32.shl (local.get $p) (i32.const 5)))
              (i32.add (i32.add (local.get $init) (i32.mul (local.get $i) (local.get $ldi))) (i32.shl (local.get $p) (i32.const 5))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $p4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))))
