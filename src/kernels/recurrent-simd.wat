;; The recurrent layers' kernels in WebAssembly SIMD (f64x2): the matrix product and the gate activations.
;;
;; 1. matmul
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
;; Functions marked `;; @inline` are copied into their callers by scripts/build-wasm.mjs (same instructions, same
;; order, bit-identical results; V8 does not inline WebAssembly calls itself).
;;
;; 1b. matmul_f32: the same product on float32 data (f32x4, 4 columns = one vector per panel row). Every product and
;;    every sum is rounded to float32 (mul, then add; no fused multiply-add), in the order kk = 0..k-1 from INIT, so
;;    each result equals fround(... fround(fround(init + fround(a0·b0)) + fround(a1·b1)) ...) exactly: the float32
;;    arithmetic Keras itself does, in one fixed order (test/kernels/workspace.test.ts checks it bit for bit).
;;
;; 2b. activate_f32: the same activations on float32 data, computed in float32 (f32x4: four lanes, a degree-7 exp),
;;    within a few float32 ulp of the float64 results — as close as Keras's own float32 activations are.
;;
;; 2. activate: a gate activation applied in place to `rows` runs of `n` float64 values, `stride` bytes apart.
;; exp is computed to ~1e-16 relative (Cody-Waite reduction by ln 2, degree-12 Taylor polynomial on |r| ≤ ln2/2
;; evaluated by Estrin's scheme,
;; exponent bits for 2^n), so sigmoid and tanh match Math.exp / Math.tanh to float64 rounding, far below Keras's
;; float32 (1e-5) tolerance.
(module
  (memory (export "memory") 1)

  ;; exp(x) per lane of two vectors at once (each constant is materialised once for both; the two dependency
  ;; chains overlap). x clamped to [-708, 709]: beyond that float64 under/overflows anyway; NaN stays NaN.
  ;; @inline
  (func $exp2 (param $x0 v128) (param $x1 v128) (result v128 v128)
    (local $c v128) (local $n0 v128) (local $n1 v128) (local $r0 v128) (local $r1 v128)
    (local $s0 v128) (local $s1 v128) (local $q0 v128) (local $q1 v128) (local $p0 v128) (local $p1 v128)
    (local $t0 v128) (local $t1 v128)
    (local.set $c (f64x2.splat (f64.const -708)))
    (local.set $x0 (f64x2.pmax (local.get $x0) (local.get $c)))
    (local.set $x1 (f64x2.pmax (local.get $x1) (local.get $c)))
    (local.set $c (f64x2.splat (f64.const 709)))
    (local.set $x0 (f64x2.pmin (local.get $x0) (local.get $c)))
    (local.set $x1 (f64x2.pmin (local.get $x1) (local.get $c)))
    ;; n = round(x / ln2)
    (local.set $c (f64x2.splat (f64.const 0x1.71547652b82fep+0)))
    (local.set $n0 (f64x2.nearest (f64x2.mul (local.get $x0) (local.get $c))))
    (local.set $n1 (f64x2.nearest (f64x2.mul (local.get $x1) (local.get $c))))
    ;; r = x - n·ln2 in two parts (ln2_hi has trailing zero bits so n·ln2_hi is exact); |r| <= ln2/2
    (local.set $c (f64x2.splat (f64.const 0x1.62e42fee00000p-1)))
    (local.set $r0 (f64x2.sub (local.get $x0) (f64x2.mul (local.get $n0) (local.get $c))))
    (local.set $r1 (f64x2.sub (local.get $x1) (f64x2.mul (local.get $n1) (local.get $c))))
    (local.set $c (f64x2.splat (f64.const 0x1.a39ef35793c76p-33)))
    (local.set $r0 (f64x2.sub (local.get $r0) (f64x2.mul (local.get $n0) (local.get $c))))
    (local.set $r1 (f64x2.sub (local.get $r1) (f64x2.mul (local.get $n1) (local.get $c))))
    ;; Σ_{k=0..12} r^k / k! by Estrin's scheme, innermost pairs first:
    ;;   p = [(1 + r) + (1/2 + r/3!)·r²] + [(1/4! + r/5!) + (1/6! + r/7!)·r²]·r⁴
    ;;     + {[(1/8! + r/9!) + (1/10! + r/11!)·r²] + (1/12!)·r⁴}·r⁸
    ;; s = r², q = r⁴
    (local.set $s0 (f64x2.mul (local.get $r0) (local.get $r0)))
    (local.set $s1 (f64x2.mul (local.get $r1) (local.get $r1)))
    (local.set $q0 (f64x2.mul (local.get $s0) (local.get $s0)))
    (local.set $q1 (f64x2.mul (local.get $s1) (local.get $s1)))
    ;; high part h = [(1/8! + r/9!) + (1/10! + r/11!)·r²] + (1/12!)·r⁴   (kept in p)
    (local.set $c (f64x2.splat (f64.const 2.08767569878680989792e-9)))
    (local.set $p0 (f64x2.mul (local.get $q0) (local.get $c)))
    (local.set $p1 (f64x2.mul (local.get $q1) (local.get $c)))
    (local.set $c (f64x2.splat (f64.const 2.50521083854417187751e-8)))
    (local.set $t0 (f64x2.mul (local.get $r0) (local.get $c)))
    (local.set $t1 (f64x2.mul (local.get $r1) (local.get $c)))
    (local.set $c (f64x2.splat (f64.const 2.75573192239858906526e-7)))
    (local.set $t0 (f64x2.mul (local.get $s0) (f64x2.add (local.get $t0) (local.get $c))))
    (local.set $t1 (f64x2.mul (local.get $s1) (f64x2.add (local.get $t1) (local.get $c))))
    (local.set $p0 (f64x2.add (local.get $p0) (local.get $t0)))
    (local.set $p1 (f64x2.add (local.get $p1) (local.get $t1)))
    (local.set $c (f64x2.splat (f64.const 2.75573192239858906526e-6)))
    (local.set $t0 (f64x2.mul (local.get $r0) (local.get $c)))
    (local.set $t1 (f64x2.mul (local.get $r1) (local.get $c)))
    (local.set $c (f64x2.splat (f64.const 2.48015873015873015873e-5)))
    (local.set $p0 (f64x2.add (local.get $p0) (f64x2.add (local.get $t0) (local.get $c))))
    (local.set $p1 (f64x2.add (local.get $p1) (f64x2.add (local.get $t1) (local.get $c))))
    ;; middle part m = (1/4! + r/5!) + (1/6! + r/7!)·r²   (kept in x)
    (local.set $c (f64x2.splat (f64.const 1.98412698412698412698e-4)))
    (local.set $x0 (f64x2.mul (local.get $r0) (local.get $c)))
    (local.set $x1 (f64x2.mul (local.get $r1) (local.get $c)))
    (local.set $c (f64x2.splat (f64.const 1.38888888888888888889e-3)))
    (local.set $x0 (f64x2.mul (local.get $s0) (f64x2.add (local.get $x0) (local.get $c))))
    (local.set $x1 (f64x2.mul (local.get $s1) (f64x2.add (local.get $x1) (local.get $c))))
    (local.set $c (f64x2.splat (f64.const 8.33333333333333333333e-3)))
    (local.set $x0 (f64x2.add (local.get $x0) (f64x2.mul (local.get $r0) (local.get $c))))
    (local.set $x1 (f64x2.add (local.get $x1) (f64x2.mul (local.get $r1) (local.get $c))))
    (local.set $c (f64x2.splat (f64.const 4.16666666666666666667e-2)))
    (local.set $x0 (f64x2.add (local.get $x0) (local.get $c)))
    (local.set $x1 (f64x2.add (local.get $x1) (local.get $c)))
    ;; m + h·r⁴  (in x)
    (local.set $x0 (f64x2.add (local.get $x0) (f64x2.mul (local.get $p0) (local.get $q0))))
    (local.set $x1 (f64x2.add (local.get $x1) (f64x2.mul (local.get $p1) (local.get $q1))))
    ;; low part l = (1 + r) + (1/2 + r/3!)·r²   (in p)
    (local.set $c (f64x2.splat (f64.const 1.66666666666666666667e-1)))
    (local.set $p0 (f64x2.mul (local.get $r0) (local.get $c)))
    (local.set $p1 (f64x2.mul (local.get $r1) (local.get $c)))
    (local.set $c (f64x2.splat (f64.const 0.5)))
    (local.set $p0 (f64x2.mul (local.get $s0) (f64x2.add (local.get $p0) (local.get $c))))
    (local.set $p1 (f64x2.mul (local.get $s1) (f64x2.add (local.get $p1) (local.get $c))))
    (local.set $c (f64x2.splat (f64.const 1)))
    (local.set $p0 (f64x2.add (local.get $p0) (f64x2.add (local.get $r0) (local.get $c))))
    (local.set $p1 (f64x2.add (local.get $p1) (f64x2.add (local.get $r1) (local.get $c))))
    ;; p = l + (m + h·r⁴)·r⁴, then · 2^n from the exponent bits
    (local.set $p0 (f64x2.add (local.get $p0) (f64x2.mul (local.get $x0) (local.get $q0))))
    (local.set $p1 (f64x2.add (local.get $p1) (f64x2.mul (local.get $x1) (local.get $q1))))
    (local.set $c (i64x2.splat (i64.const 1023)))
    (f64x2.mul (local.get $p0)
      (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $n0))) (local.get $c)) (i32.const 52)))
    (f64x2.mul (local.get $p1)
      (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $n1))) (local.get $c)) (i32.const 52))))

  ;; One activation on two vectors. code: 0 linear, 1 tanh, 2 sigmoid, 3 hard_sigmoid (0.2x+0.5),
  ;; 4 hard_sigmoid Keras 3 (x/6+0.5), 5 relu.
  ;; @inline
  (func $activation2 (param $code i32) (param $x0 v128) (param $x1 v128) (result v128 v128)
    (local $t0 v128) (local $t1 v128) (local $one v128) (local $sign v128) (local $a v128) (local $b v128)
    (local.set $one (f64x2.splat (f64.const 1)))
    (block $relu
      (block $hs3
        (block $hs
          (block $sigmoid
            (block $tanh
              (block $linear
                (br_table $linear $tanh $sigmoid $hs $hs3 $relu $linear (local.get $code)))
              (return (local.get $x0) (local.get $x1)))
            ;; tanh(x) = sign(x) · (1 − e^(−2|x|)) / (1 + e^(−2|x|))
            (local.set $a (f64x2.splat (f64.const -2)))
            (call $exp2 (f64x2.mul (f64x2.abs (local.get $x0)) (local.get $a)) (f64x2.mul (f64x2.abs (local.get $x1)) (local.get $a)))
            (local.set $t1)
            (local.set $t0)
            (local.set $sign (v128.const i64x2 0x8000000000000000 0x8000000000000000))
            (return
              (v128.or
                (f64x2.div (f64x2.sub (local.get $one) (local.get $t0)) (f64x2.add (local.get $one) (local.get $t0)))
                (v128.and (local.get $x0) (local.get $sign)))
              (v128.or
                (f64x2.div (f64x2.sub (local.get $one) (local.get $t1)) (f64x2.add (local.get $one) (local.get $t1)))
                (v128.and (local.get $x1) (local.get $sign)))))
          ;; sigmoid(x) = 1 / (1 + e^(−x))
          (call $exp2 (f64x2.neg (local.get $x0)) (f64x2.neg (local.get $x1)))
          (local.set $t1)
          (local.set $t0)
          (return
            (f64x2.div (local.get $one) (f64x2.add (local.get $one) (local.get $t0)))
            (f64x2.div (local.get $one) (f64x2.add (local.get $one) (local.get $t1)))))
        ;; clip(0.2·x + 0.5, 0, 1)
        (local.set $a (f64x2.splat (f64.const 0.2)))
        (local.set $b (f64x2.splat (f64.const 0.5)))
        (local.set $t0 (f64x2.add (f64x2.mul (local.get $x0) (local.get $a)) (local.get $b)))
        (local.set $t1 (f64x2.add (f64x2.mul (local.get $x1) (local.get $a)) (local.get $b)))
        (local.set $a (f64x2.splat (f64.const 0)))
        (return
          (f64x2.min (f64x2.max (local.get $t0) (local.get $a)) (local.get $one))
          (f64x2.min (f64x2.max (local.get $t1) (local.get $a)) (local.get $one))))
      ;; clip(x/6 + 0.5, 0, 1)
      (local.set $a (f64x2.splat (f64.const 6)))
      (local.set $b (f64x2.splat (f64.const 0.5)))
      (local.set $t0 (f64x2.add (f64x2.div (local.get $x0) (local.get $a)) (local.get $b)))
      (local.set $t1 (f64x2.add (f64x2.div (local.get $x1) (local.get $a)) (local.get $b)))
      (local.set $a (f64x2.splat (f64.const 0)))
      (return
        (f64x2.min (f64x2.max (local.get $t0) (local.get $a)) (local.get $one))
        (f64x2.min (f64x2.max (local.get $t1) (local.get $a)) (local.get $one))))
    ;; relu
    (local.set $a (f64x2.splat (f64.const 0)))
    (f64x2.max (local.get $x0) (local.get $a))
    (f64x2.max (local.get $x1) (local.get $a)))

  ;; One activation over `rows` runs of `n` values, `stride` bytes apart: two vectors (four values) per call,
  ;; then a last pair, then a last odd value through a half-loaded vector.
  (func (export "activate") (param $code i32) (param $p i32) (param $n i32) (param $rows i32) (param $stride i32)
    (local $q i32) (local $end i32) (local $r i32) (local $left i32) (local $v0 v128) (local $v1 v128)
    (if (i32.eqz (local.get $code)) (then (return)))
    (block $rowsdone
      (loop $row
        (br_if $rowsdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $q (local.get $p))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 3))))
        (block $quadsdone
          (loop $quads
            (br_if $quadsdone (i32.gt_u (i32.add (local.get $q) (i32.const 32)) (local.get $end)))
            (call $activation2 (local.get $code) (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))
            (local.set $v1)
            (local.set $v0)
            (v128.store (local.get $q) (local.get $v0))
            (v128.store offset=16 (local.get $q) (local.get $v1))
            (local.set $q (i32.add (local.get $q) (i32.const 32)))
            (br $quads)))
        (if (i32.lt_u (local.get $q) (local.get $end))
          (then
            ;; 1..3 values (8, 16 or 24 bytes) left; nothing past `end` is read or written
            (local.set $left (i32.sub (local.get $end) (local.get $q)))
            (if (i32.ge_u (local.get $left) (i32.const 16))
              (then (local.set $v0 (v128.load (local.get $q))))
              (else (local.set $v0 (v128.load64_zero (local.get $q)))))
            (local.set $v1 (f64x2.splat (f64.const 0)))
            (if (i32.gt_u (local.get $left) (i32.const 16))
              (then (local.set $v1 (v128.load64_zero offset=16 (local.get $q)))))
            (call $activation2 (local.get $code) (local.get $v0) (local.get $v1))
            (local.set $v1)
            (local.set $v0)
            (if (i32.ge_u (local.get $left) (i32.const 16))
              (then (v128.store (local.get $q) (local.get $v0)))
              (else (v128.store64_lane 0 (local.get $q) (local.get $v0))))
            (if (i32.gt_u (local.get $left) (i32.const 16))
              (then (v128.store64_lane offset=16 0 (local.get $q) (local.get $v1))))))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

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
        (br $rows))))
  ;; ---------------------------------------------------------------------------------------------------------
  ;; float32 (f32x4)
  ;; ---------------------------------------------------------------------------------------------------------

  ;; exp(x) on four float32 lanes: Cody-Waite reduction x = n·ln2 + r (ln2 in two parts, |r| ≤ ln2/2), Taylor to
  ;; degree 7 by Horner (truncation ≤ 5e-9 relative, below half a float32 ulp), times 2^n from the exponent bits.
  ;; x is clamped to [-87.3, 88.3], where the result stays a normal float32; NaN stays NaN. About 2 ulp.
  ;; @inline
  (func $expf4 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.pmax (local.get $x) (f32x4.splat (f32.const -87.3))))
    (local.set $x (f32x4.pmin (local.get $x) (f32x4.splat (f32.const 88.3))))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) (f32x4.splat (f32.const 0x1.715476p+0)))))
    (local.set $r (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (f32x4.splat (f32.const 0x1.63p-1)))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $n) (f32x4.splat (f32.const -0x1.bd0106p-13)))))
    (local.set $p (f32x4.splat (f32.const 0x1.a01a02p-13)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 0x1.6c16c2p-10))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 0x1.111112p-7))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 0x1.555556p-5))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 0x1.555556p-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 0.5))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1))))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (i32x4.splat (i32.const 127))) (i32.const 23))))

  ;; One activation on four float32 lanes, in float32 (codes as $activation2). tanh: sign(x)·(1 − e)/(1 + e) with
  ;; e = exp(−2|x|) for |x| ≥ 0.4, and its Taylor series to x¹³ below (no cancellation near 0; truncation ≤ 4e-9
  ;; relative). sigmoid: 1/(1 + exp(−x)). A few float32 ulp, like Keras's own float32 activations.
  ;; @inline
  (func $activation4f32 (param $code i32) (param $x v128) (result v128)
    (local $a v128) (local $e v128) (local $s v128) (local $p v128) (local $one v128)
    (local.set $one (f32x4.splat (f32.const 1)))
    (block $relu
      (block $hs3
        (block $hs
          (block $sigmoid
            (block $tanh
              (block $linear
                (br_table $linear $tanh $sigmoid $hs $hs3 $relu $linear (local.get $code)))
              (return (local.get $x)))
            (local.set $a (f32x4.abs (local.get $x)))
            (local.set $e (call $expf4 (f32x4.mul (local.get $a) (f32x4.splat (f32.const -2)))))
            (local.set $e (f32x4.div (f32x4.sub (local.get $one) (local.get $e)) (f32x4.add (local.get $one) (local.get $e))))
            ;; series: x + x·s·(a1 + s·(a2 + s·(a3 + s·(a4 + s·(a5 + s·a6))))), s = x²
            (local.set $s (f32x4.mul (local.get $x) (local.get $x)))
            (local.set $p (f32x4.splat (f32.const 0x1.d6d3d6p-9)))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $s)) (f32x4.splat (f32.const -0x1.226e36p-7))))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $s)) (f32x4.splat (f32.const 0x1.664f48p-6))))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $s)) (f32x4.splat (f32.const -0x1.ba1ba2p-5))))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $s)) (f32x4.splat (f32.const 0x1.111112p-3))))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $s)) (f32x4.splat (f32.const -0x1.555556p-2))))
            (local.set $p (f32x4.add (local.get $x) (f32x4.mul (f32x4.mul (local.get $x) (local.get $s)) (local.get $p))))
            (return
              (v128.bitselect
                (local.get $p)
                (v128.or (local.get $e) (v128.and (local.get $x) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000)))
                (f32x4.lt (local.get $a) (f32x4.splat (f32.const 0.4))))))
          ;; sigmoid(x) = 1 / (1 + e^(−x))
          (return (f32x4.div (local.get $one) (f32x4.add (local.get $one) (call $expf4 (f32x4.neg (local.get $x)))))))
        ;; clip(0.2·x + 0.5, 0, 1)
        (return
          (f32x4.min
            (f32x4.max (f32x4.add (f32x4.mul (local.get $x) (f32x4.splat (f32.const 0.2))) (f32x4.splat (f32.const 0.5))) (f32x4.splat (f32.const 0)))
            (local.get $one))))
      ;; clip(x/6 + 0.5, 0, 1)
      (return
        (f32x4.min
          (f32x4.max (f32x4.add (f32x4.div (local.get $x) (f32x4.splat (f32.const 6))) (f32x4.splat (f32.const 0.5))) (f32x4.splat (f32.const 0)))
          (local.get $one))))
    ;; relu
    (f32x4.max (local.get $x) (f32x4.splat (f32.const 0))))

  ;; activate on float32 data: `rows` runs of `n` values, `stride` bytes apart; four values per vector, then the
  ;; last 1..3 one at a time (nothing past a run's end is read or written).
  (func (export "activate_f32") (param $code i32) (param $p i32) (param $n i32) (param $rows i32) (param $stride i32)
    (local $q i32) (local $end i32) (local $r i32)
    (if (i32.eqz (local.get $code)) (then (return)))
    (block $rowsdone
      (loop $row
        (br_if $rowsdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $q (local.get $p))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
        (block $quadsdone
          (loop $quads
            (br_if $quadsdone (i32.gt_u (i32.add (local.get $q) (i32.const 16)) (local.get $end)))
            (v128.store (local.get $q) (call $activation4f32 (local.get $code) (v128.load (local.get $q))))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (br $quads)))
        (block $onesdone
          (loop $ones
            (br_if $onesdone (i32.ge_u (local.get $q) (local.get $end)))
            (v128.store32_lane 0 (local.get $q) (call $activation4f32 (local.get $code) (v128.load32_zero (local.get $q))))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (br $ones)))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; 4 rows x 8 columns (two panels, `ps` bytes apart), 8 accumulators.
  (func $tile4x8f32 (param $a i32) (param $lda i32) (param $k i32) (param $b i32) (param $ps i32)
                    (param $c i32) (param $ldc i32) (param $init i32) (param $ldi i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $end i32) (local $b1 i32)
    (local $bv0 v128) (local $bv1 v128) (local $s v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $a1 (i32.add (local.get $a) (local.get $lda)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $lda)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $lda)))
    (local.set $b1 (i32.add (local.get $b) (local.get $ps)))
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
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 2))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $kk
        (local.set $bv0 (v128.load (local.get $b)))
        (local.set $bv1 (v128.load (local.get $b1)))
        (local.set $s (v128.load32_splat (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $bv0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $bv1))))
        (local.set $s (v128.load32_splat (local.get $a1)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $bv0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $bv1))))
        (local.set $s (v128.load32_splat (local.get $a2)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $bv0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $bv1))))
        (local.set $s (v128.load32_splat (local.get $a3)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $bv0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $bv1))))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $b1 (i32.add (local.get $b1) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $a1 (i32.add (local.get $a1) (i32.const 4)))
        (local.set $a2 (i32.add (local.get $a2) (i32.const 4)))
        (local.set $a3 (i32.add (local.get $a3) (i32.const 4)))
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

  ;; 4 rows x 4 columns (one panel): the leftover panel of a 4-row block.
  (func $tile4x4f32 (param $a i32) (param $lda i32) (param $k i32) (param $b i32)
                    (param $c i32) (param $ldc i32) (param $init i32) (param $ldi i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $end i32) (local $bv v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $a1 (i32.add (local.get $a) (local.get $lda)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $lda)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $lda)))
    (local.set $c0 (v128.load (local.get $init)))
    (local.set $init (i32.add (local.get $init) (local.get $ldi)))
    (local.set $c1 (v128.load (local.get $init)))
    (local.set $init (i32.add (local.get $init) (local.get $ldi)))
    (local.set $c2 (v128.load (local.get $init)))
    (local.set $init (i32.add (local.get $init) (local.get $ldi)))
    (local.set $c3 (v128.load (local.get $init)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 2))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $kk
        (local.set $bv (v128.load (local.get $b)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (v128.load32_splat (local.get $a)) (local.get $bv))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (v128.load32_splat (local.get $a1)) (local.get $bv))))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (v128.load32_splat (local.get $a2)) (local.get $bv))))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (v128.load32_splat (local.get $a3)) (local.get $bv))))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $a1 (i32.add (local.get $a1) (i32.const 4)))
        (local.set $a2 (i32.add (local.get $a2) (i32.const 4)))
        (local.set $a3 (i32.add (local.get $a3) (i32.const 4)))
        (br_if $kk (i32.lt_u (local.get $a) (local.get $end)))))
    (v128.store (local.get $c) (local.get $c0))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c1))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c2))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c3)))

  ;; 1 row x 32 columns (8 panels, `ps` bytes apart), 8 accumulators: the batch-1 matrix-vector product.
  (func $tile1x32f32 (param $a i32) (param $k i32) (param $b i32) (param $ps i32) (param $c i32) (param $init i32)
    (local $end i32) (local $s v128) (local $ps3 i32) (local $b4 i32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (local.set $ps3 (i32.mul (local.get $ps) (i32.const 3)))
    (local.set $c0 (v128.load (local.get $init)))
    (local.set $c1 (v128.load offset=16 (local.get $init)))
    (local.set $c2 (v128.load offset=32 (local.get $init)))
    (local.set $c3 (v128.load offset=48 (local.get $init)))
    (local.set $c4 (v128.load offset=64 (local.get $init)))
    (local.set $c5 (v128.load offset=80 (local.get $init)))
    (local.set $c6 (v128.load offset=96 (local.get $init)))
    (local.set $c7 (v128.load offset=112 (local.get $init)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 2))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $kk
        (local.set $s (v128.load32_splat (local.get $a)))
        (local.set $b4 (i32.add (local.get $b) (i32.shl (local.get $ps) (i32.const 2))))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load (local.get $b)))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $b) (local.get $ps))))))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $b) (i32.shl (local.get $ps) (i32.const 1)))))))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $b) (local.get $ps3))))))
        (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $s) (v128.load (local.get $b4)))))
        (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $b4) (local.get $ps))))))
        (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $b4) (i32.shl (local.get $ps) (i32.const 1)))))))
        (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $b4) (local.get $ps3))))))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (br_if $kk (i32.lt_u (local.get $a) (local.get $end)))))
    (v128.store (local.get $c) (local.get $c0))
    (v128.store offset=16 (local.get $c) (local.get $c1))
    (v128.store offset=32 (local.get $c) (local.get $c2))
    (v128.store offset=48 (local.get $c) (local.get $c3))
    (v128.store offset=64 (local.get $c) (local.get $c4))
    (v128.store offset=80 (local.get $c) (local.get $c5))
    (v128.store offset=96 (local.get $c) (local.get $c6))
    (v128.store offset=112 (local.get $c) (local.get $c7)))

  ;; 1 row x 4 columns (one panel).
  (func $tile1x4f32 (param $a i32) (param $k i32) (param $b i32) (param $c i32) (param $init i32)
    (local $end i32) (local $c0 v128)
    (local.set $c0 (v128.load (local.get $init)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 2))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $kk
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (v128.load32_splat (local.get $a)) (v128.load (local.get $b)))))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (br_if $kk (i32.lt_u (local.get $a) (local.get $end)))))
    (v128.store (local.get $c) (local.get $c0)))

  ;; C = INIT + A · B on float32: 4-row blocks two panels at a time (then one), then single rows eight panels at a
  ;; time (then one). Panels are k·16 bytes apart.
  (func $matmul_f32 (export "matmul_f32") (param $a i32) (param $lda i32) (param $m i32) (param $k i32)
        (param $b i32) (param $np i32) (param $c i32) (param $ldc i32) (param $init i32) (param $ldi i32)
    (local $i i32) (local $p i32) (local $ps i32) (local $arow i32) (local $crow i32) (local $irow i32)
    (local.set $ps (i32.shl (local.get $k) (i32.const 4)))
    (block $rows4done
      (loop $rows4
        (br_if $rows4done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $m)))
        (local.set $arow (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))
        (local.set $crow (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (local.set $irow (i32.add (local.get $init) (i32.mul (local.get $i) (local.get $ldi))))
        (local.set $p (i32.const 0))
        (block $p2done
          (loop $p2
            (br_if $p2done (i32.gt_u (i32.add (local.get $p) (i32.const 2)) (local.get $np)))
            (call $tile4x8f32 (local.get $arow) (local.get $lda) (local.get $k)
              (i32.add (local.get $b) (i32.mul (local.get $p) (local.get $ps))) (local.get $ps)
              (i32.add (local.get $crow) (i32.shl (local.get $p) (i32.const 4))) (local.get $ldc)
              (i32.add (local.get $irow) (i32.shl (local.get $p) (i32.const 4))) (local.get $ldi))
            (local.set $p (i32.add (local.get $p) (i32.const 2)))
            (br $p2)))
        (if (i32.lt_u (local.get $p) (local.get $np))
          (then
            (call $tile4x4f32 (local.get $arow) (local.get $lda) (local.get $k)
              (i32.add (local.get $b) (i32.mul (local.get $p) (local.get $ps)))
              (i32.add (local.get $crow) (i32.shl (local.get $p) (i32.const 4))) (local.get $ldc)
              (i32.add (local.get $irow) (i32.shl (local.get $p) (i32.const 4))) (local.get $ldi))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rows4)))
    (block $rowsdone
      (loop $rows
        (br_if $rowsdone (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $arow (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))
        (local.set $crow (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (local.set $irow (i32.add (local.get $init) (i32.mul (local.get $i) (local.get $ldi))))
        (local.set $p (i32.const 0))
        (block $p8done
          (loop $p8
            (br_if $p8done (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $np)))
            (call $tile1x32f32 (local.get $arow) (local.get $k)
              (i32.add (local.get $b) (i32.mul (local.get $p) (local.get $ps))) (local.get $ps)
              (i32.add (local.get $crow) (i32.shl (local.get $p) (i32.const 4)))
              (i32.add (local.get $irow) (i32.shl (local.get $p) (i32.const 4))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (br $p8)))
        (block $p1done
          (loop $p1
            (br_if $p1done (i32.ge_u (local.get $p) (local.get $np)))
            (call $tile1x4f32 (local.get $arow) (local.get $k)
              (i32.add (local.get $b) (i32.mul (local.get $p) (local.get $ps)))
              (i32.add (local.get $crow) (i32.shl (local.get $p) (i32.const 4)))
              (i32.add (local.get $irow) (i32.shl (local.get $p) (i32.const 4))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $p1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))
  ;; ---------------------------------------------------------------------------------------------------------
  ;; float32 cell updates: the elementwise part of a step, fused (one pass, no JS loop). Rows are `rows` samples;
  ;; gate rows are `zs` bytes apart, state rows u float32 values apart. Lanes of four, then the last 1..3 one by one.
  ;; ---------------------------------------------------------------------------------------------------------

  ;; LSTM, from the pre-activations z = [i | f | o | c̃] (u values each):
  ;;   c' = ra(f)·c + ra(i)·act(c̃);  h' = ra(o)·act(c');  c ← c', h ← h', prev ← h'
  ;; @inline
  (func $lstm4 (param $z i32) (param $u4 i32) (param $c i32) (param $h i32) (param $prev i32)
               (param $ra i32) (param $act i32) (param $one i32)
    (local $cn v128) (local $hn v128)
    (local.set $cn
      (f32x4.add
        (f32x4.mul (call $activation4f32 (local.get $ra) (call $load4 (i32.add (local.get $z) (local.get $u4)) (local.get $one)))
                   (call $load4 (local.get $c) (local.get $one)))
        (f32x4.mul (call $activation4f32 (local.get $ra) (call $load4 (local.get $z) (local.get $one)))
                   (call $activation4f32 (local.get $act)
                     (call $load4 (i32.add (local.get $z) (i32.mul (local.get $u4) (i32.const 3))) (local.get $one))))))
    (local.set $hn
      (f32x4.mul
        (call $activation4f32 (local.get $ra) (call $load4 (i32.add (local.get $z) (i32.shl (local.get $u4) (i32.const 1))) (local.get $one)))
        (call $activation4f32 (local.get $act) (local.get $cn))))
    (call $store4 (local.get $c) (local.get $cn) (local.get $one))
    (call $store4 (local.get $h) (local.get $hn) (local.get $one))
    (call $store4 (local.get $prev) (local.get $hn) (local.get $one)))

  ;; four lanes, or (one ≠ 0) one lane into lane 0
  ;; @inline
  (func $load4 (param $p i32) (param $one i32) (result v128)
    (if (result v128) (local.get $one)
      (then (v128.load32_zero (local.get $p)))
      (else (v128.load (local.get $p)))))
  ;; @inline
  (func $store4 (param $p i32) (param $v v128) (param $one i32)
    (if (local.get $one)
      (then (v128.store32_lane 0 (local.get $p) (local.get $v)))
      (else (v128.store (local.get $p) (local.get $v)))))

  (func $lstm_cell_f32 (export "lstm_cell_f32") (param $z i32) (param $zs i32) (param $c i32) (param $h i32) (param $prev i32)
        (param $rows i32) (param $u i32) (param $ra i32) (param $act i32)
    (local $r i32) (local $k i32) (local $u4 i32) (local $o i32)
    (local.set $u4 (i32.shl (local.get $u) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $k (i32.const 0))
        (block $quadsdone
          (loop $quads
            (br_if $quadsdone (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $u)))
            (local.set $o (i32.shl (local.get $k) (i32.const 2)))
            (call $lstm4 (i32.add (local.get $z) (local.get $o)) (local.get $u4) (i32.add (local.get $c) (local.get $o))
              (i32.add (local.get $h) (local.get $o)) (i32.add (local.get $prev) (local.get $o)) (local.get $ra) (local.get $act) (i32.const 0))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $quads)))
        (block $onesdone
          (loop $ones
            (br_if $onesdone (i32.ge_u (local.get $k) (local.get $u)))
            (local.set $o (i32.shl (local.get $k) (i32.const 2)))
            (call $lstm4 (i32.add (local.get $z) (local.get $o)) (local.get $u4) (i32.add (local.get $c) (local.get $o))
              (i32.add (local.get $h) (local.get $o)) (i32.add (local.get $prev) (local.get $o)) (local.get $ra) (local.get $act) (i32.const 1))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $ones)))
        (local.set $z (i32.add (local.get $z) (local.get $zs)))
        (local.set $c (i32.add (local.get $c) (local.get $u4)))
        (local.set $h (i32.add (local.get $h) (local.get $u4)))
        (local.set $prev (i32.add (local.get $prev) (local.get $u4)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; GRU, final update from the activated update gate z (u values at the start of each gate row) and the candidate's
  ;; pre-activation (u values per row, `cs` bytes apart):  h' = z·h + (1 − z)·act(ĥ);  h ← h', prev ← h'
  ;; @inline
  (func $gru4 (param $z i32) (param $cand i32) (param $h i32) (param $prev i32) (param $act i32) (param $one i32)
    (local $zv v128) (local $hn v128)
    (local.set $zv (call $load4 (local.get $z) (local.get $one)))
    (local.set $hn
      (f32x4.add
        (f32x4.mul (local.get $zv) (call $load4 (local.get $h) (local.get $one)))
        (f32x4.mul (f32x4.sub (f32x4.splat (f32.const 1)) (local.get $zv))
                   (call $activation4f32 (local.get $act) (call $load4 (local.get $cand) (local.get $one))))))
    (call $store4 (local.get $h) (local.get $hn) (local.get $one))
    (call $store4 (local.get $prev) (local.get $hn) (local.get $one)))

  (func $gru_update_f32 (export "gru_update_f32") (param $z i32) (param $zs i32) (param $cand i32) (param $cs i32) (param $h i32)
        (param $prev i32) (param $rows i32) (param $u i32) (param $act i32)
    (local $r i32) (local $k i32) (local $u4 i32) (local $o i32)
    (local.set $u4 (i32.shl (local.get $u) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $k (i32.const 0))
        (block $quadsdone
          (loop $quads
            (br_if $quadsdone (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $u)))
            (local.set $o (i32.shl (local.get $k) (i32.const 2)))
            (call $gru4 (i32.add (local.get $z) (local.get $o)) (i32.add (local.get $cand) (local.get $o))
              (i32.add (local.get $h) (local.get $o)) (i32.add (local.get $prev) (local.get $o)) (local.get $act) (i32.const 0))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $quads)))
        (block $onesdone
          (loop $ones
            (br_if $onesdone (i32.ge_u (local.get $k) (local.get $u)))
            (local.set $o (i32.shl (local.get $k) (i32.const 2)))
            (call $gru4 (i32.add (local.get $z) (local.get $o)) (i32.add (local.get $cand) (local.get $o))
              (i32.add (local.get $h) (local.get $o)) (i32.add (local.get $prev) (local.get $o)) (local.get $act) (i32.const 1))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $ones)))
        (local.set $z (i32.add (local.get $z) (local.get $zs)))
        (local.set $cand (i32.add (local.get $cand) (local.get $cs)))
        (local.set $h (i32.add (local.get $h) (local.get $u4)))
        (local.set $prev (i32.add (local.get $prev) (local.get $u4)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; GRU (reset_after=False), the gates before the candidate's product: z and r activated in place (the first 2u
  ;; values of each gate row, `zs` bytes apart) and r·h written to `rh` (rows u apart) for (r ⊙ h)·U_h.
  ;; @inline
  (func $gruReset4 (param $z i32) (param $u4 i32) (param $h i32) (param $rh i32) (param $ra i32) (param $one i32)
    (local $r v128)
    (call $store4 (local.get $z) (call $activation4f32 (local.get $ra) (call $load4 (local.get $z) (local.get $one))) (local.get $one))
    (local.set $r (call $activation4f32 (local.get $ra) (call $load4 (i32.add (local.get $z) (local.get $u4)) (local.get $one))))
    (call $store4 (i32.add (local.get $z) (local.get $u4)) (local.get $r) (local.get $one))
    (call $store4 (local.get $rh) (f32x4.mul (local.get $r) (call $load4 (local.get $h) (local.get $one))) (local.get $one)))

  (func $gru_reset_f32 (export "gru_reset_f32") (param $z i32) (param $zs i32) (param $h i32) (param $rh i32) (param $rows i32)
        (param $u i32) (param $ra i32)
    (local $r i32) (local $k i32) (local $u4 i32) (local $o i32)
    (local.set $u4 (i32.shl (local.get $u) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $k (i32.const 0))
        (block $quadsdone
          (loop $quads
            (br_if $quadsdone (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $u)))
            (local.set $o (i32.shl (local.get $k) (i32.const 2)))
            (call $gruReset4 (i32.add (local.get $z) (local.get $o)) (local.get $u4) (i32.add (local.get $h) (local.get $o))
              (i32.add (local.get $rh) (local.get $o)) (local.get $ra) (i32.const 0))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $quads)))
        (block $onesdone
          (loop $ones
            (br_if $onesdone (i32.ge_u (local.get $k) (local.get $u)))
            (local.set $o (i32.shl (local.get $k) (i32.const 2)))
            (call $gruReset4 (i32.add (local.get $z) (local.get $o)) (local.get $u4) (i32.add (local.get $h) (local.get $o))
              (i32.add (local.get $rh) (local.get $o)) (local.get $ra) (i32.const 1))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $ones)))
        (local.set $z (i32.add (local.get $z) (local.get $zs)))
        (local.set $h (i32.add (local.get $h) (local.get $u4)))
        (local.set $rh (i32.add (local.get $rh) (local.get $u4)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; GRU (reset_after=True), the gates from zr = h·U + recurrent bias (gate rows `zs` bytes apart) and the step's
  ;; input part x·W + b (rows `xs` bytes apart): z, r = ra(x_zr + zr) in place, and the candidate's pre-activation
  ;; x_h + r·(h·U_h + b_rec_h) in place of the third block.
  ;; @inline
  (func $gruAfter4 (param $z i32) (param $x i32) (param $u4 i32) (param $ra i32) (param $one i32)
    (local $r v128) (local $p2 i32)
    (call $store4 (local.get $z)
      (call $activation4f32 (local.get $ra) (f32x4.add (call $load4 (local.get $x) (local.get $one)) (call $load4 (local.get $z) (local.get $one))))
      (local.get $one))
    (local.set $r
      (call $activation4f32 (local.get $ra)
        (f32x4.add (call $load4 (i32.add (local.get $x) (local.get $u4)) (local.get $one)) (call $load4 (i32.add (local.get $z) (local.get $u4)) (local.get $one)))))
    (call $store4 (i32.add (local.get $z) (local.get $u4)) (local.get $r) (local.get $one))
    (local.set $p2 (i32.shl (local.get $u4) (i32.const 1)))
    (call $store4 (i32.add (local.get $z) (local.get $p2))
      (f32x4.add (call $load4 (i32.add (local.get $x) (local.get $p2)) (local.get $one))
                 (f32x4.mul (local.get $r) (call $load4 (i32.add (local.get $z) (local.get $p2)) (local.get $one))))
      (local.get $one)))

  (func $gru_after_f32 (export "gru_after_f32") (param $z i32) (param $zs i32) (param $x i32) (param $xs i32) (param $rows i32)
        (param $u i32) (param $ra i32)
    (local $r i32) (local $k i32) (local $u4 i32) (local $o i32)
    (local.set $u4 (i32.shl (local.get $u) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $k (i32.const 0))
        (block $quadsdone
          (loop $quads
            (br_if $quadsdone (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $u)))
            (local.set $o (i32.shl (local.get $k) (i32.const 2)))
            (call $gruAfter4 (i32.add (local.get $z) (local.get $o)) (i32.add (local.get $x) (local.get $o)) (local.get $u4) (local.get $ra) (i32.const 0))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $quads)))
        (block $onesdone
          (loop $ones
            (br_if $onesdone (i32.ge_u (local.get $k) (local.get $u)))
            (local.set $o (i32.shl (local.get $k) (i32.const 2)))
            (call $gruAfter4 (i32.add (local.get $z) (local.get $o)) (i32.add (local.get $x) (local.get $o)) (local.get $u4) (local.get $ra) (i32.const 1))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $ones)))
        (local.set $z (i32.add (local.get $z) (local.get $zs)))
        (local.set $x (i32.add (local.get $x) (local.get $xs)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))
  ;; ---------------------------------------------------------------------------------------------------------
  ;; float32 whole-sequence loops without a mask: the time loop of runLstm / runGru (src/kernels/recurrent.ts) in one
  ;; call, the same exported steps called in the same order, so the results are bit for bit the JS loop's (it is
  ;; kept for masked runs and as the reference: test/kernels/recurrent.test.ts compares both). Saves the per-step
  ;; calls from JavaScript (a few % at batch 1). Offsets and strides in bytes; `xs` is one step of x·W + b, `ldx`
  ;; one sample (steps·xs); `back` ≠ 0 runs the steps from last to first; `seq` ≠ 0 (never 0: the packed weights
  ;; start there) receives each step's h, sample b's step s at seq + (b·steps + s)·u·4.
  ;; ---------------------------------------------------------------------------------------------------------

  ;; n float32 values from src to dst, as bits (four at a time, then one by one)
  ;; @inline
  (func $copy32 (param $dst i32) (param $src i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (block $quadsdone
      (loop $quads
        (br_if $quadsdone (i32.gt_u (i32.add (local.get $src) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $dst) (v128.load (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $quads)))
    (block $onesdone
      (loop $ones
        (br_if $onesdone (i32.ge_u (local.get $src) (local.get $end)))
        (i32.store (local.get $dst) (i32.load (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (br $ones))))

  ;; the step's h rows into the sequence output (see above)
  (func $storeStep (param $seq i32) (param $h i32) (param $batch i32) (param $steps i32) (param $s i32) (param $u i32)
    (local $b i32) (local $row i32)
    (local.set $row (i32.shl (local.get $u) (i32.const 2)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $b) (local.get $batch)))
        (call $copy32
          (i32.add (local.get $seq) (i32.mul (i32.add (i32.mul (local.get $b) (local.get $steps)) (local.get $s)) (local.get $row)))
          (i32.add (local.get $h) (i32.mul (local.get $b) (local.get $row)))
          (local.get $u))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $rows))))

  ;; the step index t of processing step s
  ;; @inline
  (func $stepIndex (param $s i32) (param $steps i32) (param $back i32) (result i32)
    (if (result i32) (local.get $back)
      (then (i32.sub (i32.sub (local.get $steps) (i32.const 1)) (local.get $s)))
      (else (local.get $s))))

  ;; LSTM: per step z = (x·W + b)[t] + h·U (columns i|f|o|c), then lstm_cell_f32.
  (func (export "lstm_seq_f32") (param $h i32) (param $c i32) (param $prev i32) (param $z i32) (param $zs i32)
        (param $xw i32) (param $xs i32) (param $ldx i32) (param $wu i32) (param $np i32) (param $u i32) (param $batch i32)
        (param $steps i32) (param $back i32) (param $seq i32) (param $ra i32) (param $act i32)
    (local $s i32) (local $u4 i32)
    (local.set $u4 (i32.shl (local.get $u) (i32.const 2)))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $s) (local.get $steps)))
        (call $matmul_f32 (local.get $h) (local.get $u4) (local.get $batch) (local.get $u) (local.get $wu) (local.get $np)
          (local.get $z) (local.get $zs)
          (i32.add (local.get $xw) (i32.mul (call $stepIndex (local.get $s) (local.get $steps) (local.get $back)) (local.get $xs)))
          (local.get $ldx))
        (call $lstm_cell_f32 (local.get $z) (local.get $zs) (local.get $c) (local.get $h) (local.get $prev) (local.get $batch)
          (local.get $u) (local.get $ra) (local.get $act))
        (if (local.get $seq)
          (then (call $storeStep (local.get $seq) (local.get $h) (local.get $batch) (local.get $steps) (local.get $s) (local.get $u))))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $step))))

  ;; GRU. after = 0 (reset_after=False): zr = (x·W + b)[t]_zr + h·U_zr, gru_reset_f32 (z, r; r ⊙ h into rh),
  ;; ĥ = (x·W + b)[t]_h + (r ⊙ h)·U_h into z2, gru_update_f32. after ≠ 0: z = h·U + recurrent bias (all three gates),
  ;; gru_after_f32 with the step's x·W + b, gru_update_f32 with the candidate in z's third block.
  (func (export "gru_seq_f32") (param $h i32) (param $prev i32) (param $z i32) (param $zs i32) (param $z2 i32) (param $z2s i32)
        (param $rh i32) (param $xw i32) (param $xs i32) (param $ldx i32) (param $uzr i32) (param $npzr i32) (param $uh i32)
        (param $nph i32) (param $rbias i32) (param $u i32) (param $batch i32) (param $steps i32) (param $back i32)
        (param $after i32) (param $seq i32) (param $ra i32) (param $act i32)
    (local $s i32) (local $u4 i32) (local $x i32)
    (local.set $u4 (i32.shl (local.get $u) (i32.const 2)))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $s) (local.get $steps)))
        (local.set $x (i32.add (local.get $xw) (i32.mul (call $stepIndex (local.get $s) (local.get $steps) (local.get $back)) (local.get $xs))))
        (if (local.get $after)
          (then
            (call $matmul_f32 (local.get $h) (local.get $u4) (local.get $batch) (local.get $u) (local.get $uzr) (local.get $npzr)
              (local.get $z) (local.get $zs) (local.get $rbias) (i32.const 0))
            (call $gru_after_f32 (local.get $z) (local.get $zs) (local.get $x) (local.get $ldx) (local.get $batch) (local.get $u) (local.get $ra))
            (call $gru_update_f32 (local.get $z) (local.get $zs) (i32.add (local.get $z) (i32.shl (local.get $u4) (i32.const 1))) (local.get $zs)
              (local.get $h) (local.get $prev) (local.get $batch) (local.get $u) (local.get $act)))
          (else
            (call $matmul_f32 (local.get $h) (local.get $u4) (local.get $batch) (local.get $u) (local.get $uzr) (local.get $npzr)
              (local.get $z) (local.get $zs) (local.get $x) (local.get $ldx))
            (call $gru_reset_f32 (local.get $z) (local.get $zs) (local.get $h) (local.get $rh) (local.get $batch) (local.get $u) (local.get $ra))
            (call $matmul_f32 (local.get $rh) (local.get $u4) (local.get $batch) (local.get $u) (local.get $uh) (local.get $nph)
              (local.get $z2) (local.get $z2s) (i32.add (local.get $x) (i32.shl (local.get $u4) (i32.const 1))) (local.get $ldx))
            (call $gru_update_f32 (local.get $z) (local.get $zs) (local.get $z2) (local.get $z2s) (local.get $h) (local.get $prev)
              (local.get $batch) (local.get $u) (local.get $act))))
        (if (local.get $seq)
          (then (call $storeStep (local.get $seq) (local.get $h) (local.get $batch) (local.get $steps) (local.get $s) (local.get $u))))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $step)))))
