/* SPDX-License-Identifier: GPL-2.0-only */
/* list.h - intrusive doubly linked list (circular, with a head node). */
#ifndef TANDEM_LIST_H
#define TANDEM_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct tdm_list {
	struct tdm_list *next, *prev;
};

#define TDM_LIST_INIT(name)                                                    \
	{                                                                      \
		&(name), &(name)                                               \
	}

static inline void tdm_list_init(struct tdm_list *l)
{
	l->next = l->prev = l;
}

static inline bool tdm_list_empty(const struct tdm_list *l)
{
	return l->next == l;
}

static inline void tdm_list_add_tail(struct tdm_list *head, struct tdm_list *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static inline void tdm_list_add(struct tdm_list *head, struct tdm_list *n)
{
	n->next = head->next;
	n->prev = head;
	head->next->prev = n;
	head->next = n;
}

static inline void tdm_list_del(struct tdm_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

#define tdm_list_entry(ptr, type, member)                                      \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define tdm_list_for_each(pos, head)                                           \
	for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

#define tdm_list_for_each_safe(pos, tmp, head)                                 \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);       \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif
