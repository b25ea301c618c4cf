/* list.h - intrusive circular doubly linked list (a node embedded in the owning struct). */
#ifndef LIB_LIST_H
#define LIB_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_node {
    struct list_node *next;
    struct list_node *prev;
};

/* The struct of type `type` whose member `member` is the node `ptr`. */
#define list_entry(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

static inline void list_init(struct list_node *head)
{
    head->next = head;
    head->prev = head;
}

static inline bool list_empty(const struct list_node *head)
{
    return head->next == head;
}

static inline void list_insert_between(struct list_node *node, struct list_node *prev,
                                       struct list_node *next)
{
    node->prev = prev;
    node->next = next;
    prev->next = node;
    next->prev = node;
}

/* Insert at the front (stack order). */
static inline void list_add(struct list_node *head, struct list_node *node)
{
    list_insert_between(node, head, head->next);
}

/* Insert at the back (queue order). */
static inline void list_add_tail(struct list_node *head, struct list_node *node)
{
    list_insert_between(node, head->prev, head);
}

/* Unlink; the node points to itself afterwards so a second list_del is harmless. */
static inline void list_del(struct list_node *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    list_init(node);
}

/* First node, or NULL when empty. */
static inline struct list_node *list_first(const struct list_node *head)
{
    return list_empty(head) ? NULL : head->next;
}

#endif
