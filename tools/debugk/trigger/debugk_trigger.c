// SPDX-License-Identifier: GPL-2.0
/*
 * debugk_trigger - make the debug kernel's checkers report, on purpose.
 *
 * Test-only (tools/debugk/capture-samples): loading the module with
 * what=KIND commits one deliberate bug of that kind, so that the report
 * the kernel prints is a genuine one of this kernel, for
 * tools/debugk/scan-log's samples.  The module's init then fails with
 * -ECANCELED, so nothing stays loaded (a leaked object stays leaked).
 *
 * KIND: kasan (slab use-after-free read), kfence (use-after-free read of
 * an object from the KFENCE pool), leak (a kmalloc'd object whose only
 * pointer is dropped: kmemleak), lockdep (an AB-BA order of two
 * mutexes, taken one after the other, never deadlocking), rcu
 * (rcu_dereference() outside a read-side section), atomic-sleep
 * (mutex_lock() under a spinlock, uncontended) and warn (WARN_ON).
 *
 * Never built into a product or loaded by a test; never load it on a
 * machine you care about.
 */
#include <linux/delay.h>
#include <linux/kfence.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

static char *what = "";
module_param(what, charp, 0444);
MODULE_PARM_DESC(what, "kasan|kfence|leak|lockdep|rcu|atomic-sleep|warn");

static DEFINE_MUTEX(trig_a);
static DEFINE_MUTEX(trig_b);
static DEFINE_SPINLOCK(trig_spin);

struct trig_obj {
	int val;
	char pad[28];
};

static struct trig_obj __rcu *trig_rcu_ptr;

/* A use-after-free read the compiler cannot drop. */
static int trig_read_freed(struct trig_obj *p)
{
	int v;

	kfree(p);
	OPTIMIZER_HIDE_VAR(p);
	v = READ_ONCE(p->val);
	return v;
}

static int trig_kasan(void)
{
	struct trig_obj *p = kmalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	p->val = 1;
	pr_info("debugk_trigger: kasan: read after kfree: %d\n",
		trig_read_freed(p));
	return 0;
}

static int trig_kfence(void)
{
	struct trig_obj *p;
	int i;

	/* KFENCE samples one allocation per interval: wait for it. */
	for (i = 0; i < 3000; i++) {
		p = kmalloc(sizeof(*p), GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		if (is_kfence_address(p))
			break;
		kfree(p);
		p = NULL;
		usleep_range(1000, 2000);
	}
	if (!p) {
		pr_err("debugk_trigger: kfence: no KFENCE object after %d tries\n", i);
		return -EAGAIN;
	}
	p->val = 2;
	pr_info("debugk_trigger: kfence: read after kfree: %d\n",
		trig_read_freed(p));
	return 0;
}

static int trig_leak(void)
{
	struct trig_obj *p = kmalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	memset(p, 0x5a, sizeof(*p));
	pr_info("debugk_trigger: leak: dropped the only pointer to a %zu-byte object\n",
		sizeof(*p));
	p = NULL;
	return 0;
}

static int trig_lockdep(void)
{
	mutex_lock(&trig_a);
	mutex_lock(&trig_b);
	mutex_unlock(&trig_b);
	mutex_unlock(&trig_a);

	mutex_lock(&trig_b);
	mutex_lock(&trig_a);
	mutex_unlock(&trig_a);
	mutex_unlock(&trig_b);
	return 0;
}

static int trig_rcu(void)
{
	struct trig_obj *p;

	p = rcu_dereference(trig_rcu_ptr);
	pr_info("debugk_trigger: rcu: dereferenced %p outside rcu_read_lock()\n", p);
	return 0;
}

static int trig_atomic_sleep(void)
{
	spin_lock(&trig_spin);
	mutex_lock(&trig_a);
	mutex_unlock(&trig_a);
	spin_unlock(&trig_spin);
	return 0;
}

static int __init debugk_trigger_init(void)
{
	int err;

	if (!strcmp(what, "kasan"))
		err = trig_kasan();
	else if (!strcmp(what, "kfence"))
		err = trig_kfence();
	else if (!strcmp(what, "leak"))
		err = trig_leak();
	else if (!strcmp(what, "lockdep"))
		err = trig_lockdep();
	else if (!strcmp(what, "rcu"))
		err = trig_rcu();
	else if (!strcmp(what, "atomic-sleep"))
		err = trig_atomic_sleep();
	else if (!strcmp(what, "warn"))
		err = WARN_ON(1) ? 0 : -EINVAL;
	else
		return -EINVAL;
	return err ? err : -ECANCELED;
}
module_init(debugk_trigger_init);

MODULE_DESCRIPTION("katls test-only: trigger the debug kernel's checkers");
MODULE_LICENSE("GPL");
